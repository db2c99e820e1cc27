/**
 * The read side's contract: what the projector writes and the query service reads. The data layout
 * and its invariants are described in docs/projections.md.
 */
export * from './tables.ts';
export * from './timelineKeys.ts';
export * from './activeCopies.ts';
