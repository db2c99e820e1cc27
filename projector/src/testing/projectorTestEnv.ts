import { afterAll, beforeAll } from 'vitest';
import { connect } from 'nats';
import { pino } from 'pino';
import { createPool, natsNames, type Pool } from '@tweeter/shared';
import {
  deleteTestRedisKeys,
  FixtureSlot,
  testNatsPrefix,
  testNatsUrl,
  testRedisEnv,
  testRedisPrefix,
  testRedisServers,
  useTestEventStore,
  type TestEventStoreFixture,
} from '@tweeter/shared/testing';
import { TimelinesProjection } from '../timelines/timelinesProjection.ts';
import { differencesFromReference } from './checkAgainstReference.ts';
import type { ReferenceModel } from './referenceModel.ts';

export interface ProjectorTestEnv extends TestEventStoreFixture {
  /** A pool on the file's database (ended after the file). */
  readonly pool: Pool;
  /** The file's own Redis key prefix (its keys are deleted after the file). */
  readonly redisPrefix: string;
  /** The file's own NATS name prefix (its stream is deleted after the file). */
  readonly natsPrefix: string;
  /** The environment of a projector or admin process on the file's database, Redis and NATS. */
  env(extra?: Record<string, string>): Record<string, string>;
  /** A timelines projection into `version` under the file's Redis prefix, logging nothing. */
  timelines(version: string, fanoutMaxFollowers: number): TimelinesProjection;
  /** What the active copies (read_model, timelines v1) get wrong against `ref` (empty: nothing). */
  differencesFrom(ref: ReferenceModel): Promise<string[]>;
}

/**
 * The setup of a projector integration test file: a database of its own with an event store
 * (polling every `pollIntervalMs`) and a pool on it, a Redis prefix and a NATS prefix of its own;
 * after the file's tests the keys, the stream and the database are gone.
 */
export function useProjectorTestEnv({ pollIntervalMs = 50 } = {}): ProjectorTestEnv {
  const base = useTestEventStore({ pollIntervalMs });
  const pool = new FixtureSlot<Pool>('useProjectorTestEnv pool');
  const redisPrefix = testRedisPrefix();
  const natsPrefix = testNatsPrefix();

  beforeAll(() => {
    pool.set(createPool(base.database.url));
  });
  afterAll(async () => {
    await deleteTestRedisKeys(redisPrefix);
    const nc = await connect({ servers: testNatsUrl().replace('nats://', '') });
    await (await nc.jetstreamManager()).streams.delete(natsNames(natsPrefix).stream).catch(() => 0);
    await nc.close();
    await pool.peek()?.end();
  });

  return {
    get database() {
      return base.database;
    },
    get store() {
      return base.store;
    },
    get pool() {
      return pool.get();
    },
    redisPrefix,
    natsPrefix,
    env: (extra = {}) => ({
      DATABASE_URL: base.database.url,
      ...testRedisEnv(),
      REDIS_PREFIX: redisPrefix,
      NATS_URL: testNatsUrl(),
      NATS_PREFIX: natsPrefix,
      // The reference model's threshold, whatever the product's default.
      FANOUT_MAX_FOLLOWERS: '10000',
      ...extra,
    }),
    timelines: (version, fanoutMaxFollowers) =>
      new TimelinesProjection({
        redis: testRedisServers(),
        redisPrefix,
        version,
        fanoutMaxFollowers,
        logger: pino({ level: 'silent' }),
      }),
    differencesFrom: (ref) =>
      differencesFromReference(ref, {
        pool: pool.get(),
        schema: 'read_model',
        redis: testRedisServers(),
        redisPrefix,
        version: 'v1',
      }),
  };
}
