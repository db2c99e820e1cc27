import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deleteRedisKeys,
  freePort,
  repoRoot,
  testDatabasePrefix,
  testNatsPrefix,
  testRedisPrefix,
  testRedisUrl,
  uniqueTag,
} from '@tweeter/shared/testing';

// `npm start` as a user runs it: a second stack beside whatever runs on the default ports (other
// ports, a database that does not exist yet, prefixes of its own), compiled, under the supervisor.

const database = `${testDatabasePrefix()}${uniqueTag()}`;
const redisPrefix = testRedisPrefix();
let ports: Record<'command' | 'query' | 'projector' | 'webhooks' | 'web', number>;
let stack: ChildProcess;
let output = '';
let receiver: http.Server;
const digests: unknown[] = [];

const url = (service: keyof typeof ports, path: string) =>
  `http://127.0.0.1:${ports[service]}${path}`;

async function status(service: keyof typeof ports, path = '/readyz'): Promise<number> {
  try {
    const response = await fetch(url(service, path), { signal: AbortSignal.timeout(2000) });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0; // not listening
  }
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (stack.exitCode !== null) throw new Error(`${what}: npm start exited\n${output}`);
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Every live process below `pid`, with its command line (read from /proc). */
function descendants(pid: number): { pid: number; cmd: string }[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const found: { pid: number; cmd: string }[] = [];
  const visit = (parent: number) => {
    for (const [child, ppid] of parents)
      if (ppid === parent) {
        let cmd = '';
        try {
          cmd = readFileSync(`/proc/${child}/cmdline`, 'utf8').replaceAll('\0', ' ');
        } catch {
          continue;
        }
        found.push({ pid: child, cmd });
        visit(child);
      }
  };
  visit(pid);
  return found;
}

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      digests.push(JSON.parse(body));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  ports = {
    command: await freePort(),
    query: await freePort(),
    projector: await freePort(),
    webhooks: await freePort(),
    web: await freePort(),
  };
  stack = spawn('npm', ['start'], {
    cwd: repoRoot,
    detached: true, // its own process group, as under a terminal: Ctrl-C goes to the group
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${database}`,
      REDIS_URL: testRedisUrl(),
      REDIS_PREFIX: redisPrefix,
      NATS_PREFIX: testNatsPrefix(),
      COMMAND_PORT: String(ports.command),
      QUERY_PORT: String(ports.query),
      PROJECTOR_PORT: String(ports.projector),
      DISPATCHER_PORT: String(ports.webhooks),
      WEB_PORT: String(ports.web),
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
      SCHEDULE_INTERVAL: '100',
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
    },
  });
  const collect = (chunk: Buffer) => (output += chunk.toString('utf8'));
  stack.stdout!.on('data', collect);
  stack.stderr!.on('data', collect);
  for (const service of Object.keys(ports) as (keyof typeof ports)[])
    await until(`${service} ready`, async () => (await status(service)) === 200, 120_000);
}, 180_000);

afterAll(async () => {
  if (stack.exitCode === null && stack.signalCode === null) process.kill(-stack.pid!, 'SIGKILL');
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
  await deleteRedisKeys(testRedisUrl(), redisPrefix);
  const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin.end();
});

describe('npm start', () => {
  it('runs every service as one compiled Node process', () => {
    const services = descendants(stack.pid!).filter((p) => p.cmd.includes('/dist/main.js'));
    expect(services.map((p) => p.cmd.match(/([\w-]+)\/dist\/main\.js/)![1]).sort()).toEqual([
      'command-service',
      'projector',
      'query-service',
      'webhook-dispatcher',
    ]);
    expect(descendants(stack.pid!).filter((p) => /\btsx\b/.test(p.cmd))).toEqual([]);
  });

  it('serves the web client, which reaches the services through its own origin', async () => {
    const page = await fetch(url('web', '/@someone'));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain('<div id="root"></div>');
    // The page's script, built by `npm run build` into web/dist.
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    expect((await fetch(url('web', script))).status).toBe(200);
    const signUp = await fetch(url('web', '/api/command/users'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: `w${uniqueTag()}` }),
    });
    expect(signUp.status).toBe(201);
    const { id } = (await signUp.json()) as { id: string };
    const profile = await fetch(url('web', `/api/query/users/${id}`), {
      headers: { 'x-min-position': signUp.headers.get('x-event-position')! },
    });
    expect(profile.status).toBe(200);
    expect(((await profile.json()) as { id: string }).id).toBe(id);
  });

  it("the dispatcher reads digests from its own stack's query service", async () => {
    const signUp = await fetch(url('command', '/users'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: `d${uniqueTag()}`, displayName: 'Digest' }),
    });
    expect(signUp.status).toBe(201);
    const user = (await signUp.json()) as { username: string; token: string };
    const task = await fetch(url('webhooks', '/tasks'), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${user.token}`,
        'x-min-position': signUp.headers.get('x-event-position')!,
      },
      body: JSON.stringify({
        username: user.username,
        webhookUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/digest`,
      }),
    });
    expect(task.status, await task.clone().text()).toBe(202);
    await until('the digest arrived', () => Promise.resolve(digests.length > 0), 20_000);
    expect(JSON.stringify(digests[0])).toContain(user.username);
  });

  const entries = {
    command: 'command-service/dist/main.js',
    query: 'query-service/dist/main.js',
    projector: 'projector/dist/main.js',
    webhooks: 'webhook-dispatcher/dist/main.js',
  } as const;

  it.each(Object.keys(entries) as (keyof typeof entries)[])(
    'keeps serving when the %s process is killed, and restarts it with a back-off',
    async (killed) => {
      const victim = descendants(stack.pid!).find((p) => p.cmd.includes(entries[killed]));
      expect(victim).toBeDefined();
      process.kill(victim!.pid, 'SIGKILL');
      const others = (Object.keys(ports) as (keyof typeof ports)[]).filter((s) => s !== killed);
      const seen: number[] = [];
      for (const deadline = Date.now() + 2000; Date.now() < deadline;) {
        for (const service of others) seen.push(await status(service));
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(new Set(seen)).toEqual(new Set([200]));
      await until(`${killed} is back`, async () => (await status(killed)) === 200, 30_000);
      expect(output).toMatch(
        new RegExp(`App \\[${killed}:\\d+\\] exited with code .* via signal \\[SIGKILL\\]`),
      );
      expect(output).toMatch(new RegExp(`App \\[${killed}:\\d+\\] will restart in \\d+ms`));
      const restarted = descendants(stack.pid!).find((p) => p.cmd.includes(entries[killed]));
      expect(restarted!.pid).not.toBe(victim!.pid);
    },
  );

  it('Ctrl-C stops every process', async () => {
    const before = descendants(stack.pid!).map((p) => p.pid);
    const exited = new Promise<number | null>((resolve) => stack.once('exit', resolve));
    process.kill(-stack.pid!, 'SIGINT');
    await exited;
    for (const deadline = Date.now() + 20_000; before.some(isAlive);) {
      if (Date.now() > deadline) throw new Error(`processes left after Ctrl-C\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    for (const service of Object.keys(ports) as (keyof typeof ports)[])
      expect(await status(service, '/healthz')).toBe(0);
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
