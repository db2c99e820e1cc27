import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'nats';
import { pino } from 'pino';
import {
  comparePositions,
  createPool,
  natsNames,
  PostgresEventStore,
  type Pool,
} from '@tweeter/shared';
import {
  createTestDatabase,
  testNatsPrefix,
  testNatsUrl,
  testRedisPrefix,
  testRedisUrl,
  type TestDatabase,
} from '@tweeter/shared/testing';
import { differencesFromReference } from './testing/checkAgainstReference.ts';
import { appendAll, LogBuilder, waitUntilVisible } from './testing/eventFactory.ts';
import { freePort, ProjectorProcess } from './testing/projectorProcess.ts';
import { ReferenceModel } from './testing/referenceModel.ts';
import { buildWorkload, seededRandom } from './testing/syntheticLog.ts';
import { TimelinesProjection } from './timelines/timelinesProjection.ts';

let database: TestDatabase;
let store: PostgresEventStore;
let pool: Pool;
const redisPrefix = testRedisPrefix();
const natsPrefix = testNatsPrefix();

beforeAll(async () => {
  database = await createTestDatabase();
  store = await PostgresEventStore.connect({ url: database.url, pollIntervalMs: 50 });
  pool = createPool(database.url);
});

afterAll(async () => {
  await new TimelinesProjection({
    redisUrl: testRedisUrl(),
    redisPrefix,
    version: 'v1',
    fanoutMaxFollowers: 10_000,
    logger: pino({ level: 'silent' }),
  }).reset();
  const nc = await connect({ servers: testNatsUrl().replace('nats://', '') });
  await (await nc.jetstreamManager()).streams.delete(natsNames(natsPrefix).stream).catch(() => 0);
  await nc.close();
  await store.close();
  await pool.end();
  await database.drop();
});

describe('two projector processes', () => {
  it('the standby takes over within seconds when the active one dies, and finishes', async () => {
    const log = new LogBuilder();
    buildWorkload(
      log,
      {
        users: 100,
        follows: 800,
        tweets: 3000,
        unfollows: 50,
        tweetDeletions: 50,
        userDeletions: 5,
      },
      seededRandom(7),
    );
    const events = log.take();
    const ref = new ReferenceModel();
    for (const e of events) ref.apply(e);
    const half = Math.floor(events.length / 2);
    await appendAll(store, events.slice(0, half), 500);
    const env = {
      DATABASE_URL: database.url,
      REDIS_URL: testRedisUrl(),
      REDIS_PREFIX: redisPrefix,
      NATS_URL: testNatsUrl(),
      NATS_PREFIX: natsPrefix,
    };
    const active = new ProjectorProcess(await freePort(), env);
    const standby = new ProjectorProcess(await freePort(), env);
    try {
      active.start();
      await active.waitFor(
        (s) => s.length === 3 && s.every((p) => p.state === 'running'),
        20_000,
        'active',
      );
      standby.start();
      await standby.waitFor(
        (s) => s.length === 3 && s.every((p) => p.state === 'standby'),
        20_000,
        'standby',
      );

      const last = await appendAll(store, events.slice(half), 100);
      await active.kill('SIGKILL');
      const killedAt = Date.now();
      await standby.waitFor((s) => s.every((p) => p.state === 'running'), 10_000, 'take-over');
      const takeOverMs = Date.now() - killedAt;
      expect(takeOverMs).toBeLessThan(5000);

      await waitUntilVisible(store, last);
      const head = await store.headPosition();
      await standby.waitFor(
        (s) => s.every((p) => p.state === 'running' && comparePositions(p.checkpoint, head) >= 0),
        60_000,
        'catch-up on the standby',
      );
      expect(
        await differencesFromReference(ref, {
          pool,
          schema: 'read_model',
          redisUrl: testRedisUrl(),
          redisPrefix,
          version: 'v1',
        }),
      ).toEqual([]);
    } finally {
      await active.kill();
      await standby.kill('SIGTERM');
    }
  });
});
