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
  // The cluster suites run on real local clusters started here from the project's scripts, unless
  // the run names one; `<variable>=none` skips those suites, saying so.
  startLocalCluster(
    'the local Redis Cluster',
    'redis-cluster.sh',
    'REDIS_CLUSTER_NODES',
    'TEST_REDIS_CLUSTER_NODES',
  );
  const stopStandby = await startStandby(admin);
  startLocalCluster(
    'the local NATS cluster',
    'nats-cluster.sh',
    'NATS_CLUSTER_URLS',
    'TEST_NATS_CLUSTER_URLS',
  );
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

/**
 * Runs `scripts/<script> start` and exports the servers it prints (`<printed>=…`) as `variable`
 * to the test workers; a run that names its own servers in `variable` keeps them.
 */
function startLocalCluster(what: string, script: string, printed: string, variable: string): void {
  if (process.env[variable] === 'none') {
    process.stdout.write(`${variable}=none: the suites on ${what} are skipped\n`);
    return;
  }
  if (process.env[variable]) return;
  const started = spawnSync('bash', [`${repoRoot}scripts/${script}`, 'start'], {
    encoding: 'utf8',
  });
  const servers = new RegExp(`^${printed}=(.+)$`, 'm').exec(started.stdout)?.[1];
  if (started.status !== 0 || !servers)
    throw new Error(`Could not start ${what}:\n${started.stdout}${started.stderr}`);
  process.env[variable] = servers; // inherited by the test workers
}
