import { minPositionOf } from '@tweeter/shared';
import type { Request } from 'express';
import { copyOf, type ReadModelCopy, type ReadModelDb } from '../readModel/database.ts';
import type { LiveCopies } from './activeCopies.ts';
import type { TokenVerifier } from './authentication.ts';
import type { ConsistencyGate, ReadSource } from './consistency.ts';
import type { CursorCodec } from './cursor.ts';
import type { QueryDependencies } from './deps.ts';
import type { QueryMetrics } from './metrics.ts';
import type { ReadModelSource } from './readModelSource.ts';

/** What every use case's handler gets: the dependencies and the service's shared machinery. */
export interface QueryContext extends QueryDependencies {
  /** Which server a request reads the read model from (the replica, or the primary). */
  source: ReadModelSource;
  gate: ConsistencyGate;
  cursors: CursorCodec;
  metrics: QueryMetrics;
  tokens: TokenVerifier;
}

/** What a request's read runs with: all of it from one server. */
export interface PreparedRead {
  /** The copies this request reads, as the server it reads from has the registry. */
  copies: LiveCopies;
  /** The live read-model copy on that server. */
  readModel: ReadModelCopy;
  /** That server's read model (for reads of several copies' tables, e.g. the timeline). */
  db: ReadModelDb;
  /** X-Min-Position: a request that asked for read-your-writes is answered by no cache. */
  minPosition: string | null;
}

/**
 * Runs `read` on the server the read model is read from (the replica while it is healthy, else
 * the primary), after waiting for X-Min-Position (when given) on `sources` there. A read the
 * replica cannot serve (it fails, or has not replayed the position in time) runs again on the
 * primary, within the same X-Min-Position deadline; so everything `read` does must be a read.
 */
export function withRead<T>(
  ctx: QueryContext,
  req: Request,
  sources: readonly ReadSource[],
  read: (prepared: PreparedRead) => Promise<T>,
  /** The home timeline read, if any (read-your-writes then waits for its fan-out partition). */
  home?: string,
): Promise<T> {
  const minPosition = minPositionOf(req);
  const deadline = ctx.gate.deadline();
  return ctx.source.read(async (server) => {
    const copies = await server.copies.get();
    if (minPosition !== null)
      await ctx.gate.waitFor(minPosition, sources, copies, server, deadline, home);
    return read({
      copies,
      readModel: copyOf(server.db, copies.readModel),
      db: server.db,
      minPosition,
    });
  });
}
