import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type pg from 'pg';
import {
  connectNats,
  createPool,
  natsNames,
  type DecodedEvent,
  type NatsConnection,
  type Position,
} from '@tweeter/shared';
import {
  createTestDatabase,
  deleteNatsStreams,
  testNatsClusterUrls,
  testNatsPrefix,
  testNatsUrl,
  type TestDatabase,
} from '@tweeter/shared/testing';
import {
  IntegrationEventsProjection,
  PublishInterruptedError,
} from './integrationEventsProjection.ts';
import { isTransient } from '../runtime/transientErrors.ts';

const clusterUrls = testNatsClusterUrls();
const logger = pino({ level: 'silent' });
let database: TestDatabase;
let pool: pg.Pool;
const prefixes: { url: string; prefix: string }[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  pool = createPool(database.url);
});

afterAll(async () => {
  await pool.end();
  await database.drop();
  for (const { url, prefix } of prefixes) await deleteNatsStreams(url, prefix);
});

function projectionOn(url: string, replicas?: number) {
  const prefix = testNatsPrefix();
  prefixes.push({ url, prefix });
  return {
    names: natsNames(prefix),
    make: (count = replicas) =>
      new IntegrationEventsProjection({
        natsUrl: url,
        natsPrefix: prefix,
        replicas: count,
        pool,
        logger,
      }),
  };
}

let position = 0;
/** Catalogue events as the log hands them over, with increasing positions. */
function tweets(count: number): DecodedEvent[] {
  const authorId = randomUUID();
  return Array.from({ length: count }, (_, i): DecodedEvent => {
    position++;
    const tweetId = randomUUID();
    const occurredAt = new Date().toISOString();
    return {
      type: 'TweetPosted',
      data: { tweetId, authorId, text: `t${i}`, createdAt: occurredAt },
      id: randomUUID(),
      streamId: `tweet-${tweetId}`,
      position: String(position).padStart(32, '0') as Position,
      metadata: {
        schemaVersion: 1,
        correlationId: 'c',
        causationId: 'c',
        actorId: authorId,
        occurredAt,
      },
    };
  });
}

async function msgIds(nc: NatsConnection, stream: string): Promise<string[]> {
  const jsm = await nc.jetstreamManager();
  const { state } = await jsm.streams.info(stream);
  const ids: string[] = [];
  for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++)
    ids.push((await jsm.streams.getMessage(stream, { seq })).header.get('Nats-Msg-Id'));
  return ids;
}

describe('integration-events on a single NATS server', () => {
  it('refuses NATS_STREAM_REPLICAS above 1, saying the server is not clustered', async () => {
    const { make } = projectionOn(testNatsUrl(), 3);
    const projection = make();
    await expect(projection.setup()).rejects.toThrow(
      /NATS_STREAM_REPLICAS=3 needs a JetStream cluster/,
    );
    await projection.close();
  });
});

describe.skipIf(!clusterUrls)(
  `integration-events on a NATS JetStream cluster${clusterUrls ? '' : ' (skipped: TEST_NATS_CLUSTER_URLS=none)'}`,
  () => {
    let nc: NatsConnection;
    beforeAll(async () => {
      nc = await connectNats(clusterUrls!, 'integration-events-cluster-test');
    });
    afterAll(async () => {
      await nc.close();
    });

    it('creates the stream with NATS_STREAM_REPLICAS, changes an existing one, and leaves it when unset', async () => {
      const { names, make } = projectionOn(clusterUrls!);
      const jsm = await nc.jetstreamManager();
      const first = make(1);
      await first.setup();
      expect((await jsm.streams.info(names.stream)).config.num_replicas).toBe(1);
      await first.close();

      const scaled = make(3);
      await scaled.setup();
      const info = await jsm.streams.info(names.stream);
      expect(info.config.num_replicas).toBe(3);
      expect(info.config.duplicate_window).toBeGreaterThan(0);
      await scaled.close();

      const unset = make(undefined);
      await unset.setup();
      expect((await jsm.streams.info(names.stream)).config.num_replicas).toBe(3);
      await unset.close();
    });

    it('publishes a batch in order, and refuses (transiently) to store anything after a message it did not expect', async () => {
      const { names, make } = projectionOn(clusterUrls!, 3);
      const projection = make();
      await projection.setup();
      const events = tweets(50);
      await projection.apply(events, events[49]!.position, null);
      expect(await msgIds(nc, names.stream)).toEqual(events.map((e) => e.id));

      // A publish in the middle of the next batch fails (here: too large for the stream; on a
      // cluster: lost with a killed leader). The later ones, published concurrently, must not land
      // after the gap: they are refused, and the error names the failing event.
      const jsm = await nc.jetstreamManager();
      const { config } = await jsm.streams.info(names.stream);
      await jsm.streams.update(names.stream, { ...config, max_msg_size: 4096 });
      const next = tweets(20);
      const big = next[10]! as Extract<DecodedEvent, { type: 'TweetPosted' }>;
      big.data.text = 'x'.repeat(8192);
      const error = await projection
        .apply(next, next[19]!.position, events[49]!.position)
        .catch((e: unknown) => e);
      expect(String(error)).toMatch(/maximum|size/i);
      expect(isTransient(error)).toBe(false);
      expect(await msgIds(nc, names.stream)).toEqual([
        ...events.map((e) => e.id),
        ...next.slice(0, 10).map((e) => e.id),
      ]);

      // Something the projector did not publish lands in the stream (a broken chain, as after a
      // lost publish): the next batch is refused, as a transient error the runner waits on.
      const js = nc.jetstream();
      await js.publish(`${names.subjectPrefix}.tweet.posted`, '{}', { msgID: 'foreign' });
      const later = tweets(5);
      const refused = await projection
        .apply([next[9]!, ...later], later[4]!.position, events[49]!.position)
        .catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(PublishInterruptedError);
      expect(isTransient(refused)).toBe(true);
      expect((await msgIds(nc, names.stream)).slice(-2)).toEqual([next[9]!.id, 'foreign']);

      // Republishing a batch that is in the stream already adds nothing.
      await expect(projection.apply(events, events[49]!.position, null)).rejects.toThrow(
        /checkpoint moved/,
      );
      expect(await msgIds(nc, names.stream)).toHaveLength(61);
      await projection.close();
    });
  },
);
