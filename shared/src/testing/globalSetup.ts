import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { connect } from 'nats';
import pg from 'pg';
import {
  deleteClusterKeys,
  deleteRedisKeys,
  testRedisClusterNodes,
  testDatabasePrefix,
  testNatsUrl,
  testRedisUrl,
  testRunNatsPrefix,
  testRunRedisPrefix,
  uniqueTag,
} from './resources.ts';
import { repoRoot } from './processes.ts';

const reachable = (url: string, defaultPort: number) =>
  new Promise<boolean>((resolve) => {
    const { hostname, port } = new URL(url);
    const socket = net.connect({ host: hostname, port: Number(port || defaultPort) });
    socket.setTimeout(2000);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });

/**
 * Integration tests need the real servers. Fail the run loudly, naming what is missing, rather
 * than letting every test time out; `npm run services:ensure` starts them.
 */
export default async function setup(): Promise<() => Promise<void>> {
  process.env.TWEETER_TEST_RUN ??= uniqueTag(); // inherited by the test workers
  const missing: string[] = [];
  if (!(await reachable(testRedisUrl(), 6379))) missing.push(`Redis at ${testRedisUrl()}`);
  if (!(await reachable(testNatsUrl(), 4222))) missing.push(`NATS at ${testNatsUrl()}`);
  const pgUrl =
    process.env.TEST_DATABASE_URL ??
    process.env.DATABASE_URL ??
    'postgres://postgres@127.0.0.1:5432/postgres';
  const admin = new URL(pgUrl);
  admin.pathname = '/postgres';
  const client = new pg.Client({
    connectionString: admin.toString(),
    connectionTimeoutMillis: 3000,
  });
  try {
    await client.connect();
    await client.end();
  } catch {
    missing.push(`PostgreSQL at ${admin.host}`);
  }
  if (missing.length > 0) {
    throw new Error(
      `Integration tests need ${missing.join(', ')}. Start them with: npm run services:ensure`,
    );
  }
  // The cluster suites run on a real local Redis Cluster (scripts/redis-cluster.sh), started here
  // unless the run names one; TEST_REDIS_CLUSTER_NODES=none skips them, saying so.
  if (process.env.TEST_REDIS_CLUSTER_NODES === 'none') delete process.env.TEST_REDIS_CLUSTER_NODES;
  else if (!process.env.TEST_REDIS_CLUSTER_NODES) {
    const started = spawnSync('bash', [`${repoRoot}scripts/redis-cluster.sh`, 'start'], {
      encoding: 'utf8',
    });
    const nodes = /^REDIS_CLUSTER_NODES=(.+)$/m.exec(started.stdout)?.[1];
    if (started.status !== 0 || !nodes)
      throw new Error(
        `Could not start the local Redis Cluster:\n${started.stdout}${started.stderr}`,
      );
    process.env.TEST_REDIS_CLUSTER_NODES = nodes; // inherited by the test workers
  }
  return async () => {
    // Drop what a crashed test file of this run left behind; other runs' databases are not ours.
    const c = new pg.Client({ connectionString: admin.toString() });
    await c.connect();
    const { rows } = await c.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE starts_with(datname, $1)`,
      [testDatabasePrefix()],
    );
    for (const { datname } of rows)
      await c.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    await c.end();
    // Likewise the run's Redis keys and NATS streams (a killed stack cannot clean up after itself).
    await deleteRedisKeys(testRedisUrl(), testRunRedisPrefix());
    const clusterNodes = testRedisClusterNodes();
    if (clusterNodes) await deleteClusterKeys(clusterNodes, testRunRedisPrefix());
    const nc = await connect({ servers: new URL(testNatsUrl()).host });
    const jsm = await nc.jetstreamManager();
    const ours: string[] = [];
    for await (const stream of jsm.streams.list())
      if (stream.config.name.startsWith(testRunNatsPrefix())) ours.push(stream.config.name);
    for (const name of ours) await jsm.streams.delete(name);
    await nc.close();
  };
}
