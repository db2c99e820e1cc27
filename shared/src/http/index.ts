export * from './problems.ts';
export * from './app.ts';
export * from './docs.ts';
export * from './minPosition.ts';
export * from './fields.ts';
export * from './paging.ts';
