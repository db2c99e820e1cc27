export * from './resources.ts';
export * from './processes.ts';
export * from './stack.ts';
export * from './referenceReads.ts';
export * from './fixtures.ts';
export * from './users.ts';
export * from './modelledApi.ts';
export * from './serviceRequest.ts';
