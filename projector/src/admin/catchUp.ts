import { comparePositions, type EventStore, type Position } from '@tweeter/shared';
import type { Projection } from '../runtime/projection.ts';
import { replayToHead } from '../runtime/replay.ts';

/**
 * The log as if its head were `until`: `replayToHead` over it stops exactly there (verify builds
 * its scratch copy up to the live copy's checkpoint, not to whatever the head is by then).
 */
export function boundedEventStore(store: EventStore, until: Position | null): EventStore {
  return {
    kind: store.kind,
    append: (...args) => store.append(...args),
    readStream: (...args) => store.readStream(...args),
    subscribe: (...args) => store.subscribe(...args),
    countAfter: (...args) => store.countAfter(...args),
    // Up to `until` only: what lies beyond it is not this log's.
    async estimatedLag(position) {
      if (until === null || comparePositions(position, until) >= 0) return 0;
      const [all, beyond] = await Promise.all([
        store.estimatedLag(position),
        store.estimatedLag(until),
      ]);
      return Math.max(1, all - beyond);
    },
    ping: () => store.ping(),
    close: () => Promise.resolve(),
    headPosition: () => Promise.resolve(until),
    async readAll(options) {
      if (until === null) return [];
      const batch = await store.readAll(options);
      return batch.filter((e) => comparePositions(e.position, until) <= 0);
    },
  };
}

export interface CatchUpResult {
  applied: number;
  checkpoint: Position | null;
  /** Whether the signal stopped it before the head. */
  interrupted: boolean;
}

/**
 * Replays `projection` from its checkpoint to the head, then again for what arrived meanwhile,
 * until a pass finds nothing new (or `maxPasses` passes under steady writes: the lag is then a
 * pass's worth of seconds). The caller holds the copy's lock.
 */
export async function catchUp(
  projection: Projection,
  eventStore: EventStore,
  options: {
    /** The projection's catch-up batch size (its declaration's). */
    batchSize: number;
    signal?: AbortSignal;
    /** Called after each batch with the events applied since the start. */
    onProgress?: (applied: number) => void;
    maxPasses?: number;
  },
): Promise<CatchUpResult> {
  let applied = 0;
  let checkpoint: Position | null = null;
  for (let pass = 0; pass < (options.maxPasses ?? 20); pass++) {
    const before = applied;
    const result = await replayToHead(projection, eventStore, {
      batchSize: options.batchSize,
      onProgress: (p) => options.onProgress?.(before + p.applied),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    applied += result.applied;
    checkpoint = result.checkpoint;
    if (options.signal?.aborted) return { applied, checkpoint, interrupted: true };
    if (result.applied === 0) break;
  }
  return { applied, checkpoint, interrupted: false };
}
