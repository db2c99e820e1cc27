export * from './resources.ts';
export * from './processes.ts';
