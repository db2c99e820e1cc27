import type { Readable } from 'node:stream';

/**
 * Groups what a readable stream emits into arrays: everything that arrived while the consumer was
 * busy becomes one batch (large while catching up, single events when live). The stream is paused
 * while `limit` items wait, so a slow consumer pushes back on the server instead of buffering.
 */
export async function* batchesOf<T>(
  stream: Readable,
  limit: number,
  signal?: AbortSignal,
): AsyncGenerator<T[]> {
  let buffer: T[] = [];
  let failure: unknown;
  let ended = false;
  let wake: (() => void) | undefined;
  const poke = () => {
    wake?.();
    wake = undefined;
  };
  stream.on('data', (item: T) => {
    buffer.push(item);
    if (buffer.length >= limit) stream.pause();
    poke();
  });
  stream.on('error', (error) => {
    failure = error;
    poke();
  });
  stream.on('end', () => {
    ended = true;
    poke();
  });
  signal?.addEventListener('abort', poke, { once: true });
  while (!signal?.aborted) {
    if (buffer.length > 0) {
      const batch = buffer.splice(0, limit);
      if (buffer.length < limit) stream.resume();
      yield batch;
      continue;
    }
    if (failure)
      throw failure instanceof Error
        ? failure
        : new Error('subscription failed', { cause: failure });
    if (ended) return;
    await new Promise<void>((resolve) => (wake = resolve));
  }
  buffer = [];
}
