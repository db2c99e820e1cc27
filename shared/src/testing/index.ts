export * from './resources.ts';
export * from './processes.ts';
export * from './stack.ts';
export * from './referenceReads.ts';
