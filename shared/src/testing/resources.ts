import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { loadConfig } from '../config/config.ts';
import { connectNats } from '../nats/nats.ts';
import { sameDatabaseOn } from '../postgres/database.ts';
import { connectRedis, redisMasters, type RedisServers } from '../redis/redis.ts';

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
  return nodes && nodes !== 'none' ? nodes.split(',').map((n) => n.trim()) : undefined;
};
/**
 * Whether this run puts the whole product on the local clusters (TEST_STACK=cluster: `npm run
 * test:cluster` runs the end-to-end suites so): Redis Cluster, the NATS cluster with 3 replicas,
 * and the query services reading from the standby.
 */
export const testStackOnClusters = (): boolean => process.env.TEST_STACK === 'cluster';
/**
 * Whether this run puts the product's Redis on the Redis Cluster (TEST_REDIS=cluster: `npm run
 * test:cluster` runs the timelines suites so, after the run on a single Redis; or TEST_STACK).
 */
export const testOnRedisCluster = (): boolean =>
  process.env.TEST_REDIS === 'cluster' || testStackOnClusters();
/** The Redis the product under test uses: the single server, or the cluster (testOnRedisCluster). */
export const testRedisServers = (): RedisServers => {
  if (!testOnRedisCluster()) return { url: testRedisUrl() };
  const clusterNodes = testRedisClusterNodes();
  if (!clusterNodes)
    throw new Error('TEST_REDIS=cluster needs a Redis Cluster (TEST_REDIS_CLUSTER_NODES)');
  return { url: testRedisUrl(), clusterNodes };
};
/** The environment that points a service process at testRedisServers(). */
export const testRedisEnv = (): Record<string, string> => {
  const { url, clusterNodes } = testRedisServers();
  return {
    REDIS_URL: url,
    ...(clusterNodes ? { REDIS_CLUSTER_NODES: clusterNodes.join(',') } : {}),
  };
};
/** Deletes every key under `prefix` from testRedisServers() (every master of the cluster). */
export async function deleteTestRedisKeys(prefix: string): Promise<void> {
  const { url, clusterNodes } = testRedisServers();
  if (clusterNodes) await deleteClusterKeys(clusterNodes, prefix);
  else await deleteRedisKeys(url, prefix);
}
export const testNatsUrl = (): string => process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
/**
 * The NATS JetStream cluster the cluster suites run against: its comma-separated server URLs
 * (TEST_NATS_CLUSTER_URLS, set by the global setup from scripts/nats-cluster.sh unless the run
 * names one), or undefined when the run skips them (TEST_NATS_CLUSTER_URLS=none).
 */
export const testNatsClusterUrls = (): string | undefined => {
  const urls = process.env.TEST_NATS_CLUSTER_URLS;
  return urls && urls !== 'none' ? urls : undefined;
};
/**
 * The NATS servers the product under test uses: the run's NATS cluster (comma-separated URLs)
 * under TEST_STACK=cluster, else the single server.
 */
export const testNatsServers = (): string => {
  if (!testStackOnClusters()) return testNatsUrl();
  const urls = testNatsClusterUrls();
  if (!urls) throw new Error('TEST_STACK=cluster needs a NATS cluster (TEST_NATS_CLUSTER_URLS)');
  return urls;
};
/** The environment that points a service process at testNatsServers() (3 replicas on the cluster). */
export const testNatsEnv = (): Record<string, string> => ({
  NATS_URL: testNatsServers(),
  ...(testStackOnClusters() ? { NATS_STREAM_REPLICAS: '3' } : {}),
});
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

/**
 * The streaming standby of the test server, as a server URL without a database (every database
 * of the primary is on it once replayed): TEST_PG_STANDBY_URL, which the run's global setup sets
 * (bash scripts/pg-standby.sh), or undefined when the run skips the read-replica suites.
 */
export const testPgStandbyUrl = (): string | undefined => {
  const url = process.env.TEST_PG_STANDBY_URL;
  return url && url !== 'none' ? url : undefined;
};

/**
 * Whether the query service under test reads its read model from the standby
 * (TEST_READS_FROM_STANDBY=1, and a standby): the existing suites, run once that way.
 */
export const testReadsFromStandby = (): boolean =>
  (process.env.TEST_READS_FROM_STANDBY === '1' || testStackOnClusters()) &&
  testPgStandbyUrl() !== undefined;
/**
 * The environment of a query service under test: READ_DATABASE_URL on the run's standby (a server
 * URL: the same database name) when testReadsFromStandby(), else nothing.
 */
export const testReadReplicaEnv = (): Record<string, string> =>
  testReadsFromStandby() ? { READ_DATABASE_URL: testPgStandbyUrl()! } : {};

/** The standby's copy of a database of the primary (`standbyUrl` defaults to the run's standby). */
export const standbyCopyOf = (databaseUrl: string, standbyUrl = testPgStandbyUrl()): string => {
  if (!standbyUrl) throw new Error('no standby: TEST_PG_STANDBY_URL is not set');
  return sameDatabaseOn(standbyUrl, databaseUrl);
};

/**
 * Waits until the standby has replayed everything the primary had committed when this was called,
 * within `timeoutMs`: a WAL record written now (a transactional logical message, nothing else
 * sees it, committed synchronously so that it and everything before it is flushed and sent) has
 * been replayed. Not the flush position: the read-model projection commits with synchronous_commit off,
 * so its commits may not be flushed yet (the WAL writer does that within wal_writer_delay); and not
 * the bare insert position, which after a segment switch lies past anything a standby can replay
 * until the next record. Either pool may be of any database of its server.
 */
export async function waitForStandbyReplay(
  primary: pg.Pool | pg.Client,
  standby: pg.Pool | pg.Client,
  timeoutMs = 10_000,
): Promise<void> {
  const { rows } = await primary.query<{ lsn: string }>(
    `SELECT pg_logical_emit_message(true, 'tweeter-test-sync', '') AS lsn`,
  );
  const lsn = rows[0]!.lsn;
  const deadline = Date.now() + timeoutMs;
  for (let pause = 1; ; pause = Math.min(pause * 2, 20)) {
    const replayed = await standby.query<{ done: boolean }>(
      'SELECT coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false) AS done',
      [lsn],
    );
    if (replayed.rows[0]!.done) return;
    if (Date.now() > deadline)
      throw new Error(`the standby has not replayed ${lsn} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}

/** Deletes every JetStream stream whose name starts with `prefix` (a run's or a file's NATS prefix). */
export async function deleteNatsStreams(url: string, prefix: string): Promise<void> {
  const nc = await connectNats(url, 'tweeter-test-cleanup');
  try {
    const jsm = await nc.jetstreamManager();
    const ours: string[] = [];
    for await (const stream of jsm.streams.list())
      if (stream.config.name.startsWith(prefix)) ours.push(stream.config.name);
    for (const name of ours) await jsm.streams.delete(name);
  } finally {
    await nc.close();
  }
}
