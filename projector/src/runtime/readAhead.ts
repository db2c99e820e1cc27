/**
 * Iterates `source` while asking it for the next item as soon as the current one is handed out, so
 * that reading the next batch of the log overlaps with applying this one (replay throughput).
 */
export async function* readAhead<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let next = iterator.next();
  try {
    for (;;) {
      const result = await next;
      if (result.done) return;
      next = iterator.next();
      // If we stop before awaiting it, its failure must not surface as an unhandled rejection.
      next.catch(() => undefined);
      yield result.value;
    }
  } finally {
    await iterator.return?.();
  }
}
