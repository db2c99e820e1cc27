/**
 * `npm run bench:eventstore`: the PostgreSQL event store against the raw limits of this machine,
 * measured side by side in one run (docs/benchmarks.md). Prints JSON lines; never fails.
 */
import { randomUUID } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { PostgresEventStore } from '../src/eventStore/index.ts';
import { createTestDatabase } from '../src/testing/index.ts';
import {
  measureRawAppend,
  printFigure,
  ratePerSecond,
  sampleEventData,
  sampleMetadata,
} from './rawAppend.ts';

const durationMs = Number(process.env.BENCH_DURATION_MS ?? 10_000);
const catchupEvents = Number(process.env.BENCH_CATCHUP_EVENTS ?? 200_000);
const database = await createTestDatabase();
const store = await PostgresEventStore.connect({ url: database.url, poolSize: 20 });

try {
  // Warm up connections and plans, then measure the limit and the store alternately.
  await measureRawAppend({ url: database.url, durationMs: 1000 });
  const baseline = await measureRawAppend({ url: database.url, durationMs });
  const appends = await ratePerSecond(16, durationMs, () =>
    // Ids as the product makes them: UUIDv7 tweet ids (stream names) and event ids.
    store.append(
      `tweet-${uuidv7()}`,
      [{ id: uuidv7(), type: 'TweetPosted', data: sampleEventData(), metadata: sampleMetadata() }],
      { expectedRevision: 'no_stream' },
    ),
  );
  printFigure({
    name: 'eventstore-append',
    value: appends,
    unit: 'appends/s',
    baseline,
    baselineName: 'raw single-row INSERT, 16 clients',
    ratio: appends / baseline,
    target: 0.6,
  });

  // A log of catchupEvents events (bulk-appended, 100 per append), then one subscriber from the start.
  const existing = await store.countAfter(null);
  const toAdd = Math.max(0, catchupEvents - existing);
  await Promise.all(
    Array.from({ length: 8 }, async (_, w) => {
      for (let i = w; i < Math.ceil(toAdd / 100); i += 8) {
        const events = Array.from({ length: 100 }, () => ({
          id: randomUUID(),
          type: 'TweetPosted',
          data: sampleEventData(),
          metadata: sampleMetadata(),
        }));
        await store.append(`bulk-${randomUUID()}`, events, { expectedRevision: 'no_stream' });
      }
    }),
  );
  const total = await store.countAfter(null);
  const controller = new AbortController();
  const started = process.hrtime.bigint();
  let read = 0;
  for await (const batch of store.subscribe({ batchSize: 5000, signal: controller.signal })) {
    read += batch.length;
    if (read >= total) break;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  printFigure({
    name: 'eventstore-catchup',
    value: read / seconds,
    unit: 'events/s',
    events: read,
  });
} finally {
  await store.close();
  await database.drop();
}
