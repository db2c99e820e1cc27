import type { ProjectionName } from '../registry.ts';
import { lockName } from '../runtime/advisoryLock.ts';
import type { Projection } from '../runtime/projection.ts';
import type { AdminContext } from './context.ts';
import { AdminError } from './errors.ts';
import { adminLockApplication, lockHolder, tryLock } from './locks.ts';
import { confirm } from './prompt.ts';

/**
 * Deletes the active copy's data and checkpoint, holding the copy's lock when no projector does.
 * Safe beside a running projector: every checkpoint write of the runner is a compare-and-set, so
 * the batch in flight is refused, and the runner, seeing the stored checkpoint moved, starts over
 * from the start by itself; a timelines copy then loses only its checkpoint here, and the
 * projector wipes the rest under its lock as it starts over (a wipe from here, key by key over
 * every master, would delete what its rebuild writes meanwhile). Refused while another admin
 * command writes the copy (a replay or verify would fail on the moved checkpoint instead).
 */
export async function resetProjection(
  ctx: AdminContext,
  name: ProjectionName,
  options: { yes?: boolean },
): Promise<{ projection: ProjectionName; copy: string; runningProjector: boolean }> {
  const projection = ctx.projection(name, await ctx.activeCopy(name));
  const copyLock = lockName(name, projection.copy);
  const holder = await lockHolder(ctx.pool, copyLock);
  if (holder === adminLockApplication)
    throw new AdminError(
      `${name} (${projection.copy}): another tweeter-admin command is writing to this copy`,
    );
  await confirm(
    `${name} (${projection.copy}): delete its data and checkpoint so that it rebuilds from the start?`,
    options.yes,
  );
  // Under the copy's lock when no projector holds it: nobody writes while the copy is wiped.
  const lock = holder === null ? await tryLock(ctx.config.DATABASE_URL, copyLock) : null;
  try {
    await resetCopy(projection, lock === null);
  } finally {
    await lock?.release();
  }
  return { projection: name, copy: projection.copy, runningProjector: lock === null };
}

/** Resets a copy; `beside`: a projector holds its lock, and wipes it itself (`resetBeside`). */
export async function resetCopy(projection: Projection, beside: boolean): Promise<void> {
  if (beside && projection.resetBeside) await projection.resetBeside();
  else await projection.reset();
}
