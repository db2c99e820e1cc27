import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import {
  deleteClusterKeys,
  deleteNatsStreams,
  deleteRedisKeys,
  freePort,
  repoRoot,
  testDatabasePrefix,
  testNatsPrefix,
  testRedisPrefix,
  testRedisUrl,
  uniqueTag,
} from '@tweeter/shared/testing';

// `npm run start:cluster` / `npm run stop:cluster` as a user runs them, on ports of their own
// (nginx, every instance, the read replica), a database that does not exist yet and prefixes of
// its own. The NATS and Redis clusters are the ones on their scripts' default ports: the run's
// global setup has started them (or found them running), so start:cluster reuses them and
// stop:cluster must leave them running. About 10 s on an idle machine (the build is ~1 s).

const database = `${testDatabasePrefix()}${uniqueTag()}`;
const redisPrefix = testRedisPrefix();
const natsPrefix = testNatsPrefix();
const standbyDir = `${repoRoot}.stack/pg-standby-cluster-${uniqueTag()}`;
let env: NodeJS.ProcessEnv;
let started = false;

function npm(script: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', '-s', script], {
      cwd: repoRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

async function status(url: string, init: RequestInit = {}) {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(20_000) });
  return { status: response.status, headers: response.headers, body: await response.text() };
}

afterAll(async () => {
  if (started) await npm('stop:cluster'); // a failed test leaves nothing running
  const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin.end();
  await deleteRedisKeys(testRedisUrl(), redisPrefix);
  const nodes = (env?.CLUSTER_TEST_REDIS_NODES ?? '').split(',').filter(Boolean);
  if (nodes.length > 0) await deleteClusterKeys(nodes, redisPrefix);
  if (env?.CLUSTER_TEST_NATS_URLS)
    await deleteNatsStreams(env.CLUSTER_TEST_NATS_URLS, natsPrefix).catch(() => undefined);
});

describe('npm run start:cluster / stop:cluster', () => {
  it('starts every instance behind nginx, each ready, and stop frees every port', async () => {
    const ports = await Promise.all(Array.from({ length: 11 }, () => freePort()));
    const [commandLb, queryLb, c1, c2, q1, q2, p1, p2, dispatcher, web, standby] = ports as [
      number,
      ...number[],
    ];
    env = {
      ...process.env,
      CLUSTER_COMMAND_PORT: String(commandLb),
      CLUSTER_QUERY_PORT: String(queryLb),
      CLUSTER_COMMAND_PORTS: `${c1},${c2}`,
      CLUSTER_QUERY_PORTS: `${q1},${q2}`,
      CLUSTER_PROJECTOR_PORTS: `${p1},${p2}`,
      CLUSTER_DISPATCHER_PORT: String(dispatcher),
      CLUSTER_WEB_PORT: String(web),
      PG_STANDBY_PORT: String(standby),
      PG_STANDBY_DIR: standbyDir,
      DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${database}`,
      REDIS_URL: testRedisUrl(),
      REDIS_PREFIX: redisPrefix,
      NATS_PREFIX: natsPrefix,
      LOG_LEVEL: 'warn',
    };
    const clustersBefore = { nats: await listening(4301), redis: await listening(7001) };

    started = true;
    const start = await npm('start:cluster');
    expect(start.code, start.output).toBe(0);
    env.CLUSTER_TEST_REDIS_NODES = /^ {2}Redis Cluster: +(\S+)/m.exec(start.output)?.[1];
    env.CLUSTER_TEST_NATS_URLS = /^ {2}NATS cluster: +(\S+)/m.exec(start.output)?.[1];
    expect(start.output).toMatch(/Redis Cluster: +\S+ +\(timelines, with their fan-out partitions/);

    // Every URL it printed answers /readyz 200: nginx's two, and the eight processes.
    const printed = [...start.output.matchAll(/(http:\/\/127\.0\.0\.1:\d+)/g)].map((m) => m[1]!);
    expect(new Set(printed)).toEqual(
      new Set(ports.slice(0, 10).map((port) => `http://127.0.0.1:${port}`)),
    );
    for (const url of printed) expect((await status(`${url}/readyz`)).status, url).toBe(200);

    // One write and its read through nginx: the command side on the NATS cluster and the Redis
    // Cluster, the query side on the replica.
    const signUp = await status(`http://127.0.0.1:${commandLb}/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: `c${uniqueTag()}` }),
    });
    expect(signUp.status, signUp.body).toBe(201);
    const { id, token } = JSON.parse(signUp.body) as { id: string; token: string };
    const profile = await status(`http://127.0.0.1:${queryLb}/users/${id}`, {
      headers: { 'x-min-position': signUp.headers.get('x-event-position')! },
    });
    expect(profile.status, profile.body).toBe(200);
    // A tweet and the home timeline through nginx: fanned out by the projectors' partitions into
    // the Redis Cluster, read back from it.
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const post = await status(`http://127.0.0.1:${commandLb}/tweets`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ text: 'on the cluster' }),
    });
    expect(post.status, post.body).toBe(202);
    const timeline = await status(`http://127.0.0.1:${queryLb}/users/${id}/timeline`, {
      headers: { ...auth, 'x-min-position': post.headers.get('x-event-position')! },
    });
    expect(timeline.status, timeline.body).toBe(200);
    expect(
      (JSON.parse(timeline.body) as { data: { text: string }[] }).data.map((t) => t.text),
    ).toEqual(['on the cluster']);
    // The web client reads the same timeline through its own origin and nginx.
    const viaWeb = await status(`http://127.0.0.1:${web}/api/query/users/${id}/timeline`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(viaWeb.status, viaWeb.body).toBe(200);
    expect((await status(`http://127.0.0.1:${web}/`)).body).toContain('<div id="root"></div>');

    const stop = await npm('stop:cluster');
    started = false;
    expect(stop.code, stop.output).toBe(0);
    for (const port of ports) expect(await listening(port), `port ${port}`).toBe(false);
    expect(existsSync(standbyDir)).toBe(false);
    // Clusters that were running before are not start:cluster's to stop; those it started, it stops.
    expect(await listening(4301)).toBe(clustersBefore.nats);
    expect(await listening(7001)).toBe(clustersBefore.redis);
    if (clustersBefore.nats) expect(stop.output).toMatch(/NATS cluster: left as it was/);
    if (clustersBefore.redis) expect(stop.output).toMatch(/Redis Cluster: left as it was/);
  }, 170_000);
});
