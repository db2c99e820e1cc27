import { timelineKeys } from '@tweeter/shared';
import { diffKeys } from '../verification/compare.ts';
import { AdminError } from '../admin/errors.ts';
import type { LiveSnapshot, Projection, ProjectionDeps } from '../runtime/projection.ts';
import { snapshotTimelines } from '../verification/snapshots.ts';

/**
 * `verify` of a timelines copy: the live keys at one checkpoint, compared key by key with a
 * rebuilt copy. A key scan is not atomic, but the projector writes each step's effects and
 * checkpoint in one MULTI: if the checkpoint is the same before and after the scan, no step landed
 * in between and the snapshot is exactly that checkpoint's state.
 */
export async function snapshotLiveTimelines(
  live: Projection,
  { config }: ProjectionDeps,
  attempts = 20,
): Promise<LiveSnapshot> {
  const snapshot = (version: string) =>
    snapshotTimelines(config.REDIS_URL, config.REDIS_PREFIX, timelineKeys(version).namespace);
  for (let i = 0; i < attempts; i++) {
    const before = await live.checkpoint();
    const data = await snapshot(live.copy);
    if ((await live.checkpoint()) === before)
      return {
        checkpoint: before,
        async compareWith(copy) {
          const rebuilt = await snapshot(copy);
          return {
            // `meta` holds the checkpoint and the live flag: bookkeeping, equal by construction.
            differences: diffKeys(data, rebuilt, (k) => k === 'meta'),
            compared: Object.keys(rebuilt).length,
          };
        },
      };
    await new Promise((resolve) => setTimeout(resolve, 100 * (i + 1)));
  }
  throw new AdminError(
    `timelines (${live.copy}) kept changing during ${attempts} snapshots; run verify at a quieter moment`,
  );
}
