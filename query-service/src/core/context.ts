import { minPositionOf } from '@tweeter/shared';
import type { Request } from 'express';
import { copyOf, type ReadModelCopy, type ReadModelDb } from '../readModel/database.ts';
import type { ActiveCopiesCache, LiveCopies } from './activeCopies.ts';
import type { TokenVerifier } from './authentication.ts';
import type { ConsistencyGate, ReadSource } from './consistency.ts';
import type { CursorCodec } from './cursor.ts';
import type { QueryDependencies } from './deps.ts';
import type { QueryMetrics } from './metrics.ts';

/** What every use case's handler gets: the dependencies and the service's shared machinery. */
export interface QueryContext extends QueryDependencies {
  db: ReadModelDb;
  copies: ActiveCopiesCache;
  gate: ConsistencyGate;
  cursors: CursorCodec;
  metrics: QueryMetrics;
  tokens: TokenVerifier;
}

/**
 * The copies this request reads, after waiting for X-Min-Position (when given) on `sources`, and
 * the live read-model copy to query. Returns the position too: a request that asked for
 * read-your-writes is answered by no cache.
 */
export async function prepareRead(
  ctx: QueryContext,
  req: Request,
  sources: readonly ReadSource[],
): Promise<{ copies: LiveCopies; readModel: ReadModelCopy; minPosition: string | null }> {
  const minPosition = minPositionOf(req);
  const copies = await ctx.copies.get();
  if (minPosition !== null) await ctx.gate.waitFor(minPosition, sources, copies);
  return { copies, readModel: copyOf(ctx.db, copies.readModel), minPosition };
}
