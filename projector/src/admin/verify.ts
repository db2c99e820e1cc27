import type { Position } from '@tweeter/shared';
import { declarationOf, type ProjectionName } from '../registry.ts';
import { lockName } from '../runtime/advisoryLock.ts';
import { hasCopies, type Difference } from '../runtime/projection.ts';
import { boundedEventStore, catchUp } from './catchUp.ts';
import type { AdminContext } from './context.ts';
import { scratchCopyName } from './copies.ts';
import { AdminError } from './errors.ts';
import { tryLock } from './locks.ts';

export interface VerifyResult {
  projection: ProjectionName;
  copy: string;
  checkpoint: Position | null;
  /** Rows or keys compared. */
  compared: number;
  differences: Difference[];
}

/**
 * Rebuilds the projection from the log into a scratch copy, up to exactly the checkpoint of a
 * consistent snapshot of the live copy (its declaration's `snapshotLive`), and compares the two.
 * The scratch copy is dropped afterwards, also on failure or Ctrl-C.
 */
export async function verifyProjection(
  ctx: AdminContext,
  projectionName: ProjectionName,
  options: { signal?: AbortSignal } = {},
): Promise<VerifyResult> {
  const declaration = declarationOf(projectionName);
  if (!hasCopies(declaration))
    throw new AdminError(`${declaration.name} cannot be verified: ${declaration.notVerifiable}`);
  const { name } = declaration;
  const copy = await ctx.activeCopy(name);
  const live = ctx.projection(name, copy);
  await live.setup();
  // A scratch name no reader or projector follows; its own lock keeps two verifies apart.
  const scratchCopy = scratchCopyName(declaration);
  const scratch = ctx.projection(name, scratchCopy);
  const lock = await tryLock(ctx.config.DATABASE_URL, lockName(name, scratchCopy));
  if (!lock) throw new AdminError(`${name}: scratch copy ${scratchCopy} is in use`);
  try {
    const snapshot = await declaration.snapshotLive(live, ctx);
    const built = await catchUp(scratch, boundedEventStore(ctx.eventStore, snapshot.checkpoint), {
      batchSize: declaration.catchUpBatchSize,
      ...(options.signal ? { signal: options.signal } : {}),
      maxPasses: 1,
    });
    if (built.interrupted) throw new AdminError(`${name}: verify interrupted`, 130);
    const { differences, compared } = await snapshot.compareWith(scratchCopy);
    return { projection: name, copy, checkpoint: snapshot.checkpoint, compared, differences };
  } finally {
    await scratch.drop().catch(() => undefined);
    await lock.release();
  }
}
