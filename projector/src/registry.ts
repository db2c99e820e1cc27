import type { ActiveCopies } from '@tweeter/shared';
import { integrationEvents } from './integrationEvents/index.ts';
import { readModel } from './readModel/index.ts';
import {
  hasCopies,
  type CopiedProjection,
  type Projection,
  type ProjectionDeps,
} from './runtime/projection.ts';
import { timelines } from './timelines/index.ts';

/**
 * The projections of the product, in the order they are shown and run. Adding a projection is one
 * folder exporting its declaration (`defineProjection`) and one entry here: every list, type, CLI
 * argument and admin check below is derived from this one.
 */
export const projections = [readModel, timelines, integrationEvents] as const;

export type RegisteredProjection = (typeof projections)[number];
export type ProjectionName = RegisteredProjection['name'];
/** The declarations with rebuildable copies (registered in `projections.active_copies`). */
export type CopiedDeclaration = Extract<RegisteredProjection, { copies: object }>;
/** The projections with rebuildable copies: the ones `rebuild` and `verify` work on. */
export type CopiedProjectionName = CopiedDeclaration['name'];

export const projectionNames: readonly ProjectionName[] = projections.map((p) => p.name);

export function isProjectionName(name: string): name is ProjectionName {
  return (projectionNames as readonly string[]).includes(name);
}

/** The declarations with rebuildable copies. */
export const copiedProjections: readonly CopiedDeclaration[] = projections.filter(hasCopies);

/** The declaration of `name`. */
export function declarationOf<N extends ProjectionName>(
  name: N,
): Extract<RegisteredProjection, { name: N }> {
  const declaration = projections.find((p) => p.name === name);
  if (!declaration) throw new Error(`unknown projection ${name}`);
  return declaration as Extract<RegisteredProjection, { name: N }>;
}

/** Each copied projection's default copy: what `projections.active_copies` starts with. */
export const defaultCopies: Readonly<ActiveCopies<CopiedProjectionName>> = Object.freeze(
  Object.fromEntries(
    copiedProjections.map((p) => [p.name, p.copies.default]),
  ) as ActiveCopies<CopiedProjectionName>,
);

/**
 * The copy a projection runs in, given the registry's active copies: the one named there when it
 * has copies, else '' (its copy is fixed; the projection names it itself).
 */
export function activeCopyOf(
  declaration: RegisteredProjection,
  copies: Readonly<ActiveCopies<CopiedProjectionName>>,
): string {
  return hasCopies(declaration) ? copies[declaration.name] : '';
}

/**
 * One projection writing to `copy`: the read model's schema, the timelines' key version. The
 * integration events' copy is its stream, fixed by NATS_PREFIX (`copy` is ignored).
 */
export function createProjection(
  name: CopiedProjectionName,
  copy: string,
  deps: ProjectionDeps,
): CopiedProjection;
export function createProjection(
  name: ProjectionName,
  copy: string,
  deps: ProjectionDeps,
): Projection;
export function createProjection(
  name: ProjectionName,
  copy: string,
  deps: ProjectionDeps,
): Projection {
  return declarationOf(name).create(copy, deps);
}
