import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { loadConfig } from '../config/config.ts';
import { connectRedis, redisMasters } from '../redis/redis.ts';

/** A short random tag for names that must not collide across test files, runs and dev stacks. */
export const uniqueTag = (): string => randomBytes(5).toString('hex');

/** The tag of this test run (set by the global setup, inherited by the test workers). */
const testRun = (): string => process.env.TWEETER_TEST_RUN ?? 'adhoc';

/** Databases of one test run share a prefix, so the run can drop its leftovers and no other run's. */
export const testDatabasePrefix = (): string => `tweeter_test_${testRun()}_`;

/** What every Redis key prefix of this run starts with (the run removes its leftovers). */
export const testRunRedisPrefix = (): string => `test:${testRun()}:`;

/** What every NATS name prefix of this run starts with (the run removes its leftover streams). */
export const testRunNatsPrefix = (): string => `T${testRun()}`;

/** The Postgres server tests run against (TEST_DATABASE_URL, else DATABASE_URL, else the local default). */
const serverUrl = (): URL =>
  new URL(
    process.env.TEST_DATABASE_URL ??
      loadConfig({ DATABASE_URL: process.env.DATABASE_URL }).DATABASE_URL,
  );

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A database of its own for one test file; `drop()` removes it. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `${testDatabasePrefix()}${uniqueTag()}`;
  const admin = serverUrl();
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = serverUrl();
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const c = new pg.Client({ connectionString: admin.toString() });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export const testRedisUrl = (): string => process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/**
 * The Redis Cluster tests run against (TEST_REDIS_CLUSTER_NODES, else REDIS_CLUSTER_NODES), or
 * undefined: CI starts a local one with scripts/redis-cluster.sh.
 */
export const testRedisClusterNodes = (): string[] | undefined => {
  const nodes = process.env.TEST_REDIS_CLUSTER_NODES ?? process.env.REDIS_CLUSTER_NODES;
  return nodes ? nodes.split(',').map((n) => n.trim()) : undefined;
};
export const testNatsUrl = (): string => process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
/** A Redis key prefix of its own for one test file. */
export const testRedisPrefix = (): string => `${testRunRedisPrefix()}${uniqueTag()}:`;
/** A NATS name prefix of its own for one test file. */
export const testNatsPrefix = (): string => `${testRunNatsPrefix()}x${uniqueTag()}`;

/** Deletes every key under `prefix` (a test file's or a run's Redis prefix). */
export async function deleteRedisKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** Deletes every key under `prefix` on every master of a Redis Cluster. */
export async function deleteClusterKeys(nodes: readonly string[], prefix: string): Promise<void> {
  const cluster = connectRedis({ url: '', clusterNodes: nodes }, '', { lazyConnect: true });
  try {
    await cluster.connect();
    for (const master of redisMasters(cluster)) {
      let cursor = '0';
      do {
        const [next, keys] = await master.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        // One key per UNLINK: keys of different slots may not share a command on a cluster.
        if (keys.length > 0) await Promise.all(keys.map((key) => master.unlink(key)));
        cursor = next;
      } while (cursor !== '0');
    }
  } finally {
    cluster.disconnect();
  }
}
