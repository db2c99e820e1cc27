import type { ProjectionName } from '../registry.ts';
import { lockName } from '../runtime/advisoryLock.ts';
import type { AdminContext } from './context.ts';
import { AdminError } from './errors.ts';
import { adminLockApplication, lockHolder } from './locks.ts';
import { confirm } from './prompt.ts';

/**
 * Deletes the active copy's data and checkpoint. Safe beside a running projector: every
 * checkpoint write of the runner is a compare-and-set (a Redis batch WATCHes the meta key), so the
 * batch in flight is refused, and the runner, seeing the stored checkpoint moved, starts over from
 * the start by itself. Refused while another admin command writes the copy (a replay or verify
 * would fail on the moved checkpoint instead).
 */
export async function resetProjection(
  ctx: AdminContext,
  name: ProjectionName,
  options: { yes?: boolean },
): Promise<{ projection: ProjectionName; copy: string; runningProjector: boolean }> {
  const projection = ctx.projection(name, await ctx.activeCopy(name));
  const holder = await lockHolder(ctx.pool, lockName(name, projection.copy));
  if (holder === adminLockApplication)
    throw new AdminError(
      `${name} (${projection.copy}): another tweeter-admin command is writing to this copy`,
    );
  await confirm(
    `${name} (${projection.copy}): delete its data and checkpoint so that it rebuilds from the start?`,
    options.yes,
  );
  await projection.reset();
  return { projection: name, copy: projection.copy, runningProjector: holder !== null };
}
