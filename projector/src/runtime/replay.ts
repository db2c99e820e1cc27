import {
  comparePositions,
  decodeEvent,
  type DecodedEvent,
  type EventStore,
  type Position,
} from '@tweeter/shared';
import type { Projection } from './projection.ts';

export interface ReplayProgress {
  applied: number;
  checkpoint: Position | null;
}

/**
 * Brings `projection` up to the head of the log in the foreground (tests, benchmark, and the
 * admin CLI's replay and verify), reading ahead one batch while the previous one is applied; a
 * projection with `applyAhead` plans each batch while the previous one lands. `onProgress`
 * reports what landed. The caller holds the projection copy's lock when others may write to it.
 */
export async function replayToHead(
  projection: Projection,
  eventStore: EventStore,
  options: { batchSize: number; onProgress?: (p: ReplayProgress) => void; signal?: AbortSignal },
): Promise<ReplayProgress> {
  await projection.setup();
  const head = await eventStore.headPosition();
  let checkpoint = await projection.checkpoint();
  let applied = 0;
  const read = (after: Position | null) =>
    eventStore.readAll({ after, maxCount: options.batchSize });
  let next = comparePositions(checkpoint, head) < 0 ? read(checkpoint) : Promise.resolve([]);
  next.catch(() => undefined);
  /** Reports what landed: the batches applied so far, each once. */
  let reported = checkpoint;
  const report = () => {
    if (checkpoint === reported) return;
    reported = checkpoint;
    options.onProgress?.({ applied, checkpoint });
  };
  try {
    while (!options.signal?.aborted) {
      const batch = await next;
      if (batch.length === 0) break;
      const upTo = batch[batch.length - 1]!.position;
      next = comparePositions(upTo, head) < 0 ? read(upTo) : Promise.resolve([]);
      next.catch(() => undefined);
      const decoded = batch.map(decodeEvent).filter((e): e is DecodedEvent => e !== null);
      if (projection.applyAhead) {
        // Resolves once this batch is being written: the batches before it landed.
        await projection.applyAhead(decoded, upTo, checkpoint);
        report();
      } else await projection.apply(decoded, upTo, checkpoint);
      checkpoint = upTo;
      applied += batch.length;
      if (!projection.applyAhead) report();
    }
  } catch (error) {
    await projection.settle?.().catch(() => undefined);
    throw error;
  }
  await projection.settle?.();
  report();
  // An interrupted replay stopped short of the head: readers must not trust the copy yet.
  if (!options.signal?.aborted) await projection.caughtUp?.(checkpoint);
  return { applied, checkpoint };
}
