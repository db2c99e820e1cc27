/**
 * `npm run bench:eventstore`: the PostgreSQL event store against the raw limits of this machine,
 * measured side by side in one run (docs/benchmarks.md), and against its peer, Emmett's PostgreSQL
 * event store (emmettPeer.ts). Prints JSON lines; never fails.
 *
 * Env: BENCH_DURATION_MS (10,000) per measurement, BENCH_PEER_ROUNDS (2) rounds of ours then
 * Emmett's, BENCH_CATCHUP_EVENTS (200,000).
 */
import { randomUUID } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { PostgresEventStore } from '../src/eventStore/index.ts';
import { createTestDatabase } from '../src/testing/index.ts';
import { startEmmettPeer, type EmmettPeer } from './emmettPeer.ts';
import {
  measureRawAppend,
  printFigure,
  ratePerSecond,
  sampleEventData,
  sampleMetadata,
} from './rawAppend.ts';

const durationMs = Number(process.env.BENCH_DURATION_MS ?? 10_000);
const peerRounds = Number(process.env.BENCH_PEER_ROUNDS ?? 2);
const catchupEvents = Number(process.env.BENCH_CATCHUP_EVENTS ?? 200_000);
const database = await createTestDatabase();
const store = await PostgresEventStore.connect({ url: database.url, poolSize: 20 });
const peerDatabase = await createTestDatabase();
const note = (text: string) => console.error(`# ${text}`);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** Emmett failing (the peer is a library we do not control) leaves our figure without its peer. */
let peer: EmmettPeer | undefined = await startEmmettPeer(peerDatabase.url).catch(
  (error: unknown) => {
    note(`Emmett peer not started: ${String(error)}`);
    return undefined;
  },
);

try {
  const appendRate = (ms: number) =>
    ratePerSecond(16, ms, () =>
      // Ids as the product makes them: UUIDv7 tweet ids (stream names) and event ids.
      store.append(
        `tweet-${uuidv7()}`,
        [
          {
            id: uuidv7(),
            type: 'TweetPosted',
            data: sampleEventData(),
            metadata: sampleMetadata(),
          },
        ],
        { expectedRevision: 'no_stream' },
      ),
    );
  const peerRate = async (ms: number) => {
    try {
      return await peer?.appendRate(ms);
    } catch (error) {
      note(`Emmett peer failed: ${String(error)}`);
      await peer?.close();
      peer = undefined;
      return undefined;
    }
  };
  // Warm up connections and plans, then measure the limit, then our store and Emmett's in
  // alternating rounds, so that drift on the shared machine falls on both.
  await measureRawAppend({ url: database.url, durationMs: 1000 });
  await appendRate(1000);
  await peerRate(1000);
  const baseline = await measureRawAppend({ url: database.url, durationMs });
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let round = 0; round < peerRounds; round++) {
    ours.push(await appendRate(durationMs));
    const rate = await peerRate(durationMs);
    if (rate !== undefined) theirs.push(rate);
  }
  const appends = mean(ours);
  const peerBaseline = theirs.length === peerRounds ? mean(theirs) : undefined;
  printFigure({
    name: 'eventstore-append',
    value: appends,
    unit: 'appends/s',
    baseline,
    baselineName: 'raw single-row INSERT, 16 clients',
    ratio: appends / baseline,
    target: 0.6,
    ...(peer && peerBaseline !== undefined
      ? {
          peerBaseline,
          peerRatio: appends / peerBaseline,
          peerTarget: 2.5,
          peerNote: `${peer.description}; ${peerRounds} rounds of ${durationMs} ms alternating with ours`,
        }
      : {}),
    roundRates: ours.map(Math.round),
    peerRoundRates: theirs.map(Math.round),
  });
  await peer?.close(); // its process and connections have no part in the catch-up figure

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
  await peer?.close();
  await store.close();
  await database.drop();
  await peerDatabase.drop();
}
