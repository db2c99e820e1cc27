import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { connect } from 'nats';
import pg from 'pg';
import {
  deleteClusterKeys,
  deleteNatsStreams,
  testNatsClusterUrls,
  deleteRedisKeys,
  testRedisClusterNodes,
  testDatabasePrefix,
  testNatsUrl,
  testRedisUrl,
  testRunNatsPrefix,
  testRunRedisPrefix,
  uniqueTag,
} from './resources.ts';
import { freePort, repoRoot } from './processes.ts';

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
  const stopStandby = await startStandby(admin);
  // Likewise the NATS JetStream cluster suites (scripts/nats-cluster.sh: 3 nodes on 4301–4303);
  // TEST_NATS_CLUSTER_URLS=none skips them, saying so.
  if (process.env.TEST_NATS_CLUSTER_URLS === 'none')
    process.stdout.write('TEST_NATS_CLUSTER_URLS=none: the NATS cluster suites are skipped\n');
  else if (!process.env.TEST_NATS_CLUSTER_URLS) {
    const started = spawnSync('bash', [`${repoRoot}scripts/nats-cluster.sh`, 'start'], {
      encoding: 'utf8',
    });
    const urls = /^NATS_CLUSTER_URLS=(.+)$/m.exec(started.stdout)?.[1];
    if (started.status !== 0 || !urls)
      throw new Error(
        `Could not start the local NATS cluster:\n${started.stdout}${started.stderr}`,
      );
    process.env.TEST_NATS_CLUSTER_URLS = urls; // inherited by the test workers
  }
  return async () => {
    stopStandby();
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
    const clusterUrls = testNatsClusterUrls();
    // A cluster stopped meanwhile (scripts/nats-cluster.sh stop) took its streams with it.
    if (clusterUrls)
      await deleteNatsStreams(clusterUrls, testRunNatsPrefix()).catch((error: unknown) =>
        process.stderr.write(`could not clean the NATS cluster's streams: ${String(error)}\n`),
      );
  };
}

/**
 * The read-replica suites read from a streaming hot standby of the test server
 * (scripts/pg-standby.sh), started here for this run alone — on a free port, its data under
 * .stack/pg-standby-<run>/ — and stopped when the run ends, unless TEST_PG_STANDBY_URL names one
 * (a server URL without a database); TEST_PG_STANDBY_URL=none skips those suites, saying so.
 * Returns what stops the standby started here.
 */
async function startStandby(primary: URL): Promise<() => void> {
  if (process.env.TEST_PG_STANDBY_URL === 'none') {
    console.warn('TEST_PG_STANDBY_URL=none: the read-replica suites are skipped');
    return () => undefined;
  }
  if (process.env.TEST_PG_STANDBY_URL) return () => undefined;
  const env = {
    ...process.env,
    PG_STANDBY_PORT: String(await freePort()),
    PG_STANDBY_DIR: `${repoRoot}.stack/pg-standby-${process.env.TWEETER_TEST_RUN}`,
    PG_PRIMARY_HOST: primary.hostname,
    PG_PRIMARY_PORT: primary.port || '5432',
  };
  const script = `${repoRoot}scripts/pg-standby.sh`;
  const started = spawnSync('bash', [script, 'start'], { encoding: 'utf8', env, timeout: 120_000 });
  const url = /^READ_DATABASE_URL_TEMPLATE=(.+)$/m.exec(started.stdout)?.[1];
  if (started.status !== 0 || !url) {
    spawnSync('bash', [script, 'stop'], { env, timeout: 120_000 });
    throw new Error(
      `Could not start the PostgreSQL standby (TEST_PG_STANDBY_URL=none skips its suites):\n${started.stdout}${started.stderr}`,
    );
  }
  process.env.TEST_PG_STANDBY_URL = url; // inherited by the test workers
  return () => {
    spawnSync('bash', [script, 'stop'], { env, timeout: 120_000 });
  };
}
