import { redisServersOf, timelineKeys, type Position } from '@tweeter/shared';
import { diffKeys } from '../verification/compare.ts';
import { AdminError } from '../admin/errors.ts';
import type { LiveSnapshot, Projection, ProjectionDeps } from '../runtime/projection.ts';
import { snapshotMeta, snapshotTimelines } from '../verification/snapshots.ts';

/**
 * Keys that say how far the copy's writers got, not what the log says: `meta` (checkpoint, live
 * flag, step bookkeeping), the fan-out partitions' streams and checkpoints, the member processes;
 * and the home streams, the recent changes a live copy tells its open streams (a copy being
 * built writes none; the user hashes' stream fields `w` and `f` are left out by the snapshots).
 */
export const isBookkeeping = (name: string): boolean =>
  name === 'meta' ||
  name === 'members' ||
  /^(fanout|part):\{p\d+\}$/.test(name) ||
  name.startsWith('stream:{');

/**
 * `verify` of a timelines copy: the live keys at one checkpoint, compared key by key with a
 * rebuilt copy. A key scan is not atomic, but the projector marks each step in `meta` (`busy`)
 * from before its first write until its checkpoint: if the checkpoint is the same before and
 * after the scan, no step was in progress at either moment and every fan-out partition stood at
 * that checkpoint both times, nothing wrote in between and the snapshot is exactly that
 * checkpoint's state.
 */
export async function snapshotLiveTimelines(
  live: Projection,
  { config }: ProjectionDeps,
  attempts = 20,
): Promise<LiveSnapshot> {
  const servers = redisServersOf(config);
  const snapshot = (version: string) =>
    snapshotTimelines(servers, config.REDIS_PREFIX, timelineKeys(version).namespace);
  const keys = timelineKeys(live.copy);
  // A moment to snapshot: no step in progress, and every fan-out partition has applied exactly
  // up to the checkpoint (none behind with chunks waiting).
  const standing = async () => {
    const [meta, ...parts] = await snapshotMeta(servers, config.REDIS_PREFIX, keys.meta, (m) =>
      Array.from({ length: Number(m.partitions ?? 0) }, (_, p) => keys.partition(p)),
    );
    if (meta!.busy !== undefined) return null;
    const checkpoint = meta!.checkpoint ?? '';
    return parts.every((part) => (part.checkpoint ?? '') === checkpoint) ? checkpoint : null;
  };
  for (let i = 0; i < attempts; i++) {
    const before = await standing();
    const data = await snapshot(live.copy);
    const after = await standing();
    if (before !== null && after === before)
      return {
        checkpoint: (before || null) as Position | null,
        async compareWith(copy) {
          const rebuilt = await snapshot(copy);
          return {
            differences: diffKeys(data, rebuilt, isBookkeeping),
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
