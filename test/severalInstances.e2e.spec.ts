import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { PostgresEventStore } from '@tweeter/shared';
import {
  createTestDatabase,
  deleteTestRedisKeys,
  openEventStream,
  freePort,
  printOutputs,
  repoRoot,
  serviceRequest,
  startService,
  testNatsEnv,
  testNatsPrefix,
  testReadReplicaEnv,
  testRedisEnv,
  testRedisPrefix,
  uniqueTag,
  type ServiceProcess,
  type TestDatabase,
} from '@tweeter/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Several instances of each service on one stack (one database, Redis prefix and NATS prefix):
// two command services, two query services, one projector, and deploy/nginx.conf in front of
// them. Every promise of the contract must hold whichever instance a request lands on.

const writesPerMinute = 4;
const signUpsPerHour = 4;

let database: TestDatabase;
const redisPrefix = testRedisPrefix();
let commands: [ServiceProcess, ServiceProcess];
let queries: [ServiceProcess, ServiceProcess];
let projector: ServiceProcess;
let nginx: ChildProcess | undefined;
let nginxOutput = '';
const nginxDir = `${repoRoot}.stack/nginx-test-${uniqueTag()}`;
let balancer: { command: string; query: string };
let failed = false;

beforeAll(async () => {
  database = await createTestDatabase();
  const [c1, c2, q1, q2, p, nc, nq] = await Promise.all(Array.from({ length: 7 }, freePort));
  const common = {
    DATABASE_URL: database.url,
    ...testRedisEnv(),
    ...testNatsEnv(),
    REDIS_PREFIX: redisPrefix,
    NATS_PREFIX: testNatsPrefix(),
    RATE_LIMIT_WRITES_PER_MINUTE: String(writesPerMinute),
    RATE_LIMIT_SIGNUPS_PER_HOUR: String(signUpsPerHour),
    // A busy 2-core machine may need longer than the default 2 s.
    CONSISTENCY_WAIT_MS: '15000',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
  };
  const command = (port: number, n: number) =>
    startService({
      name: `command-service-${n}`,
      entry: 'command-service/src/main.ts',
      env: { ...common, COMMAND_PORT: String(port) },
      port,
    });
  const query = (port: number, n: number) =>
    startService({
      name: `query-service-${n}`,
      entry: 'query-service/src/main.ts',
      env: { ...common, ...testReadReplicaEnv(), QUERY_PORT: String(port) },
      port,
    });
  // All at once, on a database nobody has migrated yet, as a deployment starts them.
  const started = await Promise.allSettled([
    command(c1!, 1),
    command(c2!, 2),
    query(q1!, 1),
    query(q2!, 2),
    startService({
      name: 'projector',
      entry: 'projector/src/main.ts',
      env: { ...common, PROJECTOR_PORT: String(p) },
      port: p!,
    }),
  ]);
  const failures = started.filter((s) => s.status === 'rejected');
  if (failures.length > 0) {
    await Promise.all(
      started.map((s) => (s.status === 'fulfilled' ? s.value.stop() : Promise.resolve())),
    );
    throw new Error(failures.map((f) => String(f.reason)).join('\n'));
  }
  const [a, b, qa, qb, pr] = started.map(
    (s) => (s as PromiseFulfilledResult<ServiceProcess>).value,
  );
  commands = [a!, b!];
  queries = [qa!, qb!];
  projector = pr!;

  // deploy/nginx.conf rendered as start:cluster renders it, in a prefix of its own.
  const nginxBin = spawnSync('bash', [`${repoRoot}scripts/ensure-nginx.sh`], { encoding: 'utf8' });
  if (nginxBin.status !== 0) throw new Error(`nginx unavailable:\n${nginxBin.stderr}`);
  mkdirSync(`${nginxDir}/logs`, { recursive: true });
  mkdirSync(`${nginxDir}/tmp`, { recursive: true });
  const rendered = spawnSync('bash', [`${repoRoot}deploy/render-nginx-conf.sh`], {
    encoding: 'utf8',
    env: {
      ...process.env,
      NGINX_COMMAND_LISTEN: `127.0.0.1:${nc}`,
      NGINX_QUERY_LISTEN: `127.0.0.1:${nq}`,
      COMMAND_SERVICE_1: `127.0.0.1:${c1}`,
      COMMAND_SERVICE_2: `127.0.0.1:${c2}`,
      QUERY_SERVICE_1: `127.0.0.1:${q1}`,
      QUERY_SERVICE_2: `127.0.0.1:${q2}`,
      NGINX_WORKER_PROCESSES: '1',
      CONSISTENCY_WAIT_MS: common.CONSISTENCY_WAIT_MS,
    },
  });
  if (rendered.status !== 0) throw new Error(`render-nginx-conf.sh: ${rendered.stderr}`);
  writeFileSync(`${nginxDir}/nginx.conf`, rendered.stdout);
  nginx = spawn(
    nginxBin.stdout.trim(),
    ['-p', `${nginxDir}/`, '-c', `${nginxDir}/nginx.conf`, '-e', 'logs/error.log'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  nginx.stdout!.on('data', (chunk: Buffer) => (nginxOutput += chunk.toString()));
  nginx.stderr!.on('data', (chunk: Buffer) => (nginxOutput += chunk.toString()));
  balancer = { command: `http://127.0.0.1:${nc}`, query: `http://127.0.0.1:${nq}` };
  for (const deadline = Date.now() + 20_000; ;) {
    if (nginx.exitCode !== null) throw new Error(`nginx exited:\n${nginxOutput}`);
    const ready = await Promise.all(
      [balancer.command, balancer.query].map((base) =>
        fetch(`${base}/readyz`, { signal: AbortSignal.timeout(1000) })
          .then((r) => r.status === 200)
          .catch(() => false),
      ),
    );
    if (ready.every(Boolean)) break;
    if (Date.now() > deadline) throw new Error(`nginx not answering:\n${nginxOutput}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
});

afterAll(async () => {
  if (failed) {
    printOutputs([...(commands ?? []), ...(queries ?? []), projector]);
    process.stderr.write(`\n----- nginx -----\n${nginxOutput}\n`);
    try {
      process.stderr.write(readFileSync(`${nginxDir}/logs/error.log`, 'utf8'));
    } catch {
      // none
    }
  }
  if (nginx && nginx.exitCode === null) {
    const exited = new Promise((resolve) => nginx!.once('exit', resolve));
    nginx.kill('SIGQUIT'); // graceful shutdown
    const timer = setTimeout(() => nginx!.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
  rmSync(nginxDir, { recursive: true, force: true });
  await Promise.all([...(commands ?? []), ...(queries ?? []), projector].map((s) => s?.stop()));
  await deleteTestRedisKeys(redisPrefix);
  await database?.drop();
});

// ---- HTTP helpers ---------------------------------------------------------------------------------

function parsed(text: string, status: number): Record<string, unknown> {
  if (!text) return {};
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error(`not JSON (${status}): ${text.slice(0, 300)}`);
  }
}

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

async function call(
  base: string,
  method: string,
  path: string,
  options: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const response = await fetch(
    `${base}${path}`,
    serviceRequest(method, { ...options, timeoutMs: 30_000 }),
  );
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: parsed(text, response.status),
  };
}

/**
 * A request from a given loopback address (Linux routes all of 127.0.0.0/8 to lo): how a test
 * plays several clients in front of nginx, which forwards the address it sees.
 */
function callFrom(
  localAddress: string,
  base: string,
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const body = options.body !== undefined ? JSON.stringify(options.body) : undefined;
    const request = http.request(
      `${base}${path}`,
      {
        method,
        localAddress,
        agent: false,
        timeout: 30_000,
        headers: {
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...options.headers,
        },
      },
      (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
        response.on('end', () => {
          const headers = new Headers();
          for (const [name, value] of Object.entries(response.headers))
            if (typeof value === 'string') headers.set(name, value);
          resolve({
            status: response.statusCode ?? 0,
            headers,
            body: parsed(text, response.statusCode ?? 0),
          });
        });
      },
    );
    request.on('error', reject);
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.end(body);
  });
}

interface User {
  id: string;
  username: string;
  token: string;
  position: string;
}

let users = 0;
/**
 * Signs up a user on `base`. Direct to a service the test is a loopback peer, which the command
 * service trusts (TRUST_PROXY loopback), so X-Forwarded-For picks the sign-up budget: each test's
 * users come from an address of their own and never eat another test's budget.
 */
async function signUp(base: string, clientAddress: string): Promise<User> {
  const username = `u${users++}_${uniqueTag()}`;
  const answer = await call(base, 'POST', '/users', {
    body: { username },
    headers: { 'x-forwarded-for': clientAddress },
  });
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  return {
    id: answer.body.id as string,
    username,
    token: answer.body.token as string,
    position: answer.headers.get('x-event-position')!,
  };
}

const post = (base: string, user: User, text: string, headers: Record<string, string> = {}) =>
  call(base, 'POST', '/tweets', { body: { text }, token: user.token, headers });

/** Requests an instance has served (its /metrics request counter, health and metrics excluded). */
async function served(service: ServiceProcess): Promise<number> {
  const text = await (await fetch(`${service.baseUrl}/metrics`)).text();
  let total = 0;
  for (const match of text.matchAll(/^http_request_duration_seconds_count\{([^}]*)\} (\d+)/gm))
    if (!/route="\/(metrics|readyz|healthz)"/.test(match[1]!)) total += Number(match[2]);
  return total;
}

const servedBy = (services: readonly ServiceProcess[]) => Promise.all(services.map(served));

// ---- across instances ---------------------------------------------------------------------------

describe('two command services, two query services, one projector', () => {
  it('the write rate limit is one budget per user across the command services', async () => {
    try {
      const user = await signUp(commands[0].baseUrl, '198.51.100.1');
      const answers: Answer[] = [];
      for (let i = 0; i <= writesPerMinute; i++)
        answers.push(await post(commands[i % 2]!.baseUrl, user, `limited ${i}`));
      expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 202, 429]);
      expect(answers.map((a) => a.headers.get('ratelimit-remaining'))).toEqual([
        '3',
        '2',
        '1',
        '0',
        '0',
      ]);
      expect(answers[4]!.body.type).toBe('/problems/rate-limited');
      expect(Number(answers[4]!.headers.get('retry-after'))).toBeGreaterThan(0);
      // The refused post appended nothing: 4 tweets, read on either query service.
      const last = answers[3]!.headers.get('x-event-position')!;
      for (const q of queries) {
        const page = await call(q.baseUrl, 'GET', `/users/${user.id}/tweets?limit=10`, {
          headers: { 'x-min-position': last },
        });
        expect((page.body.data as unknown[]).length).toBe(writesPerMinute);
      }
    } catch (error) {
      failed = true;
      throw error;
    }
  });

  it('the sign-up limit is one budget per client address across the command services', async () => {
    try {
      const attempt = (n: number, address: string) =>
        call(commands[n % 2]!.baseUrl, 'POST', '/users', {
          body: { username: `s${n}_${uniqueTag()}` },
          headers: { 'x-forwarded-for': address },
        });
      const statuses: number[] = [];
      for (let i = 0; i <= signUpsPerHour; i++)
        statuses.push((await attempt(i, '198.51.100.2')).status);
      expect(statuses).toEqual([201, 201, 201, 201, 429]);
      // Another address has a budget of its own, on either instance.
      expect((await attempt(0, '198.51.100.3')).status).toBe(201);
      expect((await attempt(1, '198.51.100.3')).status).toBe(201);
      expect((await attempt(1, '198.51.100.2')).status).toBe(429);
    } catch (error) {
      failed = true;
      throw error;
    }
  });

  it('an Idempotency-Key used on one command service is replayed by the other, appended once', async () => {
    try {
      const user = await signUp(commands[1].baseUrl, '198.51.100.4');
      const key = `k-${uniqueTag()}`;
      const first = await post(commands[0].baseUrl, user, 'once', { 'idempotency-key': key });
      const again = await post(commands[1].baseUrl, user, 'once', { 'idempotency-key': key });
      expect(first.status).toBe(202);
      expect(first.headers.get('idempotent-replayed')).toBeNull();
      expect(again.status).toBe(202);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(again.body).toEqual(first.body);
      expect(again.headers.get('location')).toBe(first.headers.get('location'));
      expect(again.headers.get('x-event-position')).toBe(first.headers.get('x-event-position'));
      // The same key with another body is refused on either instance.
      const other = await post(commands[1].baseUrl, user, 'twice', { 'idempotency-key': key });
      expect(other.status).toBe(409);

      // Appended once: one TweetPosted of this author in the log…
      const log = await PostgresEventStore.connect({ url: database.url });
      try {
        const events = await log.readAll({ after: null, maxCount: 100_000 });
        const posted = events.filter(
          (e) => e.type === 'TweetPosted' && (e.data as { authorId?: string }).authorId === user.id,
        );
        expect(posted).toHaveLength(1);
      } finally {
        await log.close();
      }
      // …and one tweet on both query services.
      for (const q of queries) {
        const page = await call(q.baseUrl, 'GET', `/users/${user.id}/tweets`, {
          headers: { 'x-min-position': first.headers.get('x-event-position')! },
        });
        expect(page.body.data).toMatchObject([{ id: first.body.id, text: 'once' }]);
        const profile = await call(q.baseUrl, 'GET', `/users/${user.id}`, {
          headers: { 'x-min-position': first.headers.get('x-event-position')! },
        });
        expect(profile.body.tweetCount).toBe(1);
      }
    } catch (error) {
      failed = true;
      throw error;
    }
  });

  it('a write on either command service is read on either query service with X-Min-Position', async () => {
    try {
      const user = await signUp(commands[0].baseUrl, '198.51.100.5');
      // Straight after sign-up, on both query services: never a 404.
      for (const q of queries) {
        const profile = await call(q.baseUrl, 'GET', `/users/${user.id}`, {
          headers: { 'x-min-position': user.position },
        });
        expect(profile.status).toBe(200);
        expect(profile.body.username).toBe(user.username);
      }
      for (let i = 0; i < 2; i++) {
        const tweet = await post(commands[i]!.baseUrl, user, `read me ${i}`);
        expect(tweet.status).toBe(202);
        const position = tweet.headers.get('x-event-position')!;
        for (const q of i === 0 ? queries : [...queries].reverse()) {
          const read = await call(q.baseUrl, 'GET', `/tweets/${tweet.body.id as string}`, {
            headers: { 'x-min-position': position },
          });
          expect(read.status, `${q.name}: ${JSON.stringify(read.body)}`).toBe(200);
          expect(read.body.text).toBe(`read me ${i}`);
        }
      }
      // A profile change on B is never older data on either query service.
      const patched = await call(commands[1].baseUrl, 'PATCH', `/users/${user.id}`, {
        body: { displayName: 'Changed on B' },
        token: user.token,
      });
      expect(patched.status).toBe(200);
      for (const q of [...queries].reverse()) {
        const profile = await call(q.baseUrl, 'GET', `/users/${user.id}`, {
          headers: { 'x-min-position': patched.headers.get('x-event-position')! },
        });
        expect(profile.body).toMatchObject({ displayName: 'Changed on B', tweetCount: 2 });
      }
    } catch (error) {
      failed = true;
      throw error;
    }
  });

  it('a cursor from one query service pages on the other, with no repeat or skip', async () => {
    try {
      const user = await signUp(commands[1].baseUrl, '198.51.100.6');
      const ids: string[] = [];
      let position = user.position;
      for (let i = 0; i < writesPerMinute; i++) {
        const tweet = await post(commands[i % 2]!.baseUrl, user, `page ${i}`);
        expect(tweet.status).toBe(202);
        ids.unshift(tweet.body.id as string); // newest first
        position = tweet.headers.get('x-event-position')!;
      }
      const seen: string[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < 10; page++) {
        const q = queries[page % 2]!;
        const path = `/users/${user.id}/tweets?limit=1${cursor ? `&cursor=${cursor}` : ''}`;
        const answer = await call(q.baseUrl, 'GET', path, {
          headers: page === 0 ? { 'x-min-position': position } : {},
        });
        expect(answer.status, `${q.name} ${path}: ${JSON.stringify(answer.body)}`).toBe(200);
        seen.push(...(answer.body.data as { id: string }[]).map((t) => t.id));
        cursor = answer.body.nextCursor as string | null;
        if (!cursor) break;
      }
      expect(seen).toEqual(ids);
    } catch (error) {
      failed = true;
      throw error;
    }
  });
});

// ---- through nginx (deploy/nginx.conf) ------------------------------------------------------------

describe('through the load balancer', () => {
  it('a client sees one service, and requests land on every instance', async () => {
    try {
      const before = { commands: await servedBy(commands), queries: await servedBy(queries) };
      const client = '127.0.0.20';
      const signUpAnswer = await callFrom(client, balancer.command, 'POST', '/users', {
        body: { username: `lb_${uniqueTag()}` },
      });
      expect(signUpAnswer.status).toBe(201);
      const token = signUpAnswer.body.token as string;
      const userId = signUpAnswer.body.id as string;
      const auth = { authorization: `Bearer ${token}` };

      const posted: { id: string; position: string }[] = [];
      // Two posts, then a keyed post and its replay: the user's whole write budget (replays count).
      for (let i = 0; i < 2; i++) {
        const tweet = await call(balancer.command, 'POST', '/tweets', {
          body: { text: `balanced ${i}` },
          token,
        });
        expect(tweet.status).toBe(202);
        expect(tweet.headers.get('x-event-position')).toMatch(/\S/);
        posted.unshift({
          id: tweet.body.id as string,
          position: tweet.headers.get('x-event-position')!,
        });
        // Read-your-writes through the balancer, whichever query instance answers.
        const read = await call(balancer.query, 'GET', `/tweets/${posted[0]!.id}`, {
          headers: { 'x-min-position': posted[0]!.position },
        });
        expect(read.status).toBe(200);
        expect(read.body.text).toBe(`balanced ${i}`);
      }
      // Idempotency-Key and Idempotent-Replayed pass through.
      const key = `lb-${uniqueTag()}`;
      const keyed = await call(balancer.command, 'POST', '/tweets', {
        body: { text: 'keyed' },
        headers: { ...auth, 'idempotency-key': key },
      });
      const replay = await call(balancer.command, 'POST', '/tweets', {
        body: { text: 'keyed' },
        headers: { ...auth, 'idempotency-key': key },
      });
      expect([keyed.status, replay.status]).toEqual([202, 202]);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(replay.body).toEqual(keyed.body);
      posted.unshift({
        id: keyed.body.id as string,
        position: keyed.headers.get('x-event-position')!,
      });

      // Paging with cursors and Link headers through the balancer.
      const seen: string[] = [];
      let next: string | null = `/users/${userId}/tweets?limit=1`;
      for (let page = 0; next && page < 10; page++) {
        const answer = await call(balancer.query, 'GET', next, {
          headers: page === 0 ? { 'x-min-position': posted[0]!.position, ...auth } : auth,
        });
        expect(answer.status).toBe(200);
        seen.push(...(answer.body.data as { id: string }[]).map((t) => t.id));
        const link = answer.headers.get('link');
        next = link ? /^<([^>]+)>; rel="next"$/.exec(link)![1]! : null;
        expect(next === null).toBe(answer.body.nextCursor === null);
      }
      expect(seen).toEqual(posted.map((p) => p.id));
      const timeline = await call(balancer.query, 'GET', `/users/${userId}/timeline?limit=10`, {
        headers: { 'x-min-position': posted[0]!.position, ...auth },
      });
      expect((timeline.body.data as { id: string }[]).map((t) => t.id)).toEqual(seen);

      // A body over 16 KiB is refused at the edge, with the services' own limit.
      const big = await call(balancer.command, 'POST', '/tweets', {
        body: { text: 'x'.repeat(17 * 1024) },
        token,
      });
      expect(big.status).toBe(413);
      expect(big.headers.get('content-type')).toBe('application/problem+json');
      expect(big.body.type).toBe('/problems/payload-too-large');

      const after = { commands: await servedBy(commands), queries: await servedBy(queries) };
      const delta = (a: number[], b: number[]) => a.map((n, i) => n - b[i]!);
      const commandShare = delta(after.commands, before.commands);
      const queryShare = delta(after.queries, before.queries);
      // 1 sign-up + 2 posts + 2 keyed posts reached the command side (the 413 stopped at nginx);
      // 2 reads, the pages (3 tweets, or one more page) and the timeline the query side.
      expect(commandShare.reduce((a, b) => a + b)).toBe(5);
      expect(queryShare.reduce((a, b) => a + b)).toBeGreaterThanOrEqual(2 + 3 + 1);
      for (const share of [...commandShare, ...queryShare]) expect(share).toBeGreaterThan(0);
      // nginx's access log names both instances of each upstream, too.
      const upstreams = new Set(
        [...readFileSync(`${nginxDir}/logs/access.log`, 'utf8').matchAll(/upstream=(\S+)/g)].map(
          (m) => m[1],
        ),
      );
      for (const s of [...commands, ...queries]) expect(upstreams).toContain(s.baseUrl.slice(7));
    } catch (error) {
      failed = true;
      throw error;
    }
  });

  it('the sign-up limit counts the client address nginx sees, not a header the client sends', async () => {
    try {
      // One client (127.0.0.30) claiming a new X-Forwarded-For every time: nginx overwrites it
      // with the address it sees, so all its attempts share one budget…
      const statuses: number[] = [];
      for (let i = 0; i <= signUpsPerHour; i++)
        statuses.push(
          (
            await callFrom('127.0.0.30', balancer.command, 'POST', '/users', {
              body: { username: `x${i}_${uniqueTag()}` },
              headers: { 'x-forwarded-for': `203.0.113.${i + 1}` },
            })
          ).status,
        );
      expect(statuses).toEqual([201, 201, 201, 201, 429]);
      // …while another client (127.0.0.31) has a budget of its own: the address was forwarded.
      const other = await callFrom('127.0.0.31', balancer.command, 'POST', '/users', {
        body: { username: `y_${uniqueTag()}` },
        headers: { 'x-forwarded-for': '203.0.113.1' },
      });
      expect(other.status).toBe(201);
    } catch (error) {
      failed = true;
      throw error;
    }
  });

  it('a home stream resumes on the other query service, and through nginx, missing nothing', async () => {
    try {
      const reader = await signUp(commands[0].baseUrl, '198.51.100.40');
      const author = await signUp(commands[1].baseUrl, '198.51.100.41');
      const followed = await call(
        commands[0].baseUrl,
        'PUT',
        `/users/${reader.id}/following/${author.id}`,
        { token: reader.token },
      );
      expect(followed.status).toBe(204);
      const path = `/users/${reader.id}/timeline/stream`;
      const updates = (events: { event?: string | undefined; data: string }[]) =>
        events
          .filter((e) => e.event === 'update')
          .map((e) => (JSON.parse(e.data) as { text: string }).text);
      // Open on the first query service: two posts arrive.
      const first = await openEventStream(`${queries[0].baseUrl}${path}`, { token: reader.token });
      expect(first.status).toBe(200);
      const ids: string[] = [];
      for (const text of ['one', 'two'])
        ids.push((await post(commands[0].baseUrl, author, text)).body.id as string);
      await first.until((events) => updates(events).length === 2);
      const afterOne = first.events.find((e) => e.event === 'update')!.id!;
      first.close();
      // Away: a third post and a deletion; back on the other instance from the last event seen.
      await post(commands[1].baseUrl, author, 'three');
      const deleted = await call(commands[1].baseUrl, 'DELETE', `/tweets/${ids[0]}`, {
        token: author.token,
      });
      expect(deleted.status).toBe(204);
      const second = await openEventStream(`${queries[1].baseUrl}${path}`, {
        token: reader.token,
        lastEventId: first.lastEventId,
      });
      await second.until((events) => events.some((e) => e.event === 'delete'));
      expect(second.events.map((e) => e.event)).toEqual(['update', 'delete']);
      expect(updates(second.events)).toEqual(['three']);
      expect(JSON.parse(second.events[1]!.data)).toEqual({ ids: [ids[0]] });
      second.close();
      // Through nginx, from after the first post: the rest comes at once (nothing buffered).
      const balanced = await openEventStream(`${balancer.query}${path}`, {
        token: reader.token,
        lastEventId: afterOne,
      });
      expect(balanced.status).toBe(200);
      await balanced.until((events) => events.some((e) => e.event === 'delete'), 5000);
      expect(balanced.events.map((e) => e.event)).toEqual(['update', 'update', 'delete']);
      expect(updates(balanced.events)).toEqual(['two', 'three']);
      balanced.close();
    } catch (error) {
      failed = true;
      throw error;
    }
  });
});
