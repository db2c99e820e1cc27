/**
 * What other workspaces use of the projector (`@tweeter/projector`): the projection registry, to
 * run the real projections in-process (the query service's tests and benchmark).
 */
export {
  copiedProjections,
  createProjection,
  declarationOf,
  isProjectionName,
  projectionNames,
  projections,
  type CopiedProjectionName,
  type ProjectionName,
} from './registry.ts';
export type {
  CopiedProjection,
  Projection,
  ProjectionDeclaration,
  ProjectionDeps,
} from './runtime/projection.ts';
export { replayToHead } from './runtime/replay.ts';
