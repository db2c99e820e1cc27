import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChildService, freePort } from '@tweeter/shared/testing';
import { isLockHeld } from './admin/locks.ts';
import { lockName } from './runtime/advisoryLock.ts';
import { ProjectorProcess } from './testing/projectorProcess.ts';
import { useProjectorTestEnv } from './testing/projectorTestEnv.ts';

/**
 * EventStoreDB configured but unreachable (nothing listens on its port), with real projector and
 * command-service processes: everything answers 503 and waits, nothing fails for good, and the
 * projections' locks are not kept by a process that cannot reach the store.
 */
const fixture = useProjectorTestEnv();
let projector: ProjectorProcess | undefined;
let commands: ChildService | undefined;

const poll = async <T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`${what} not reached within ${timeoutMs} ms (${String(last)})`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

beforeAll(async () => {
  const deadPort = await freePort();
  const env = fixture.env({
    EVENTSTORE_CONNECTION_STRING: `esdb://127.0.0.1:${deadPort}?tls=false`,
    RATE_LIMIT_SIGNUPS_PER_HOUR: '0',
    RATE_LIMIT_WRITES_PER_MINUTE: '0',
  });
  projector = new ProjectorProcess(await freePort(), env);
  commands = new ChildService({
    name: 'command-service',
    entry: 'command-service/src/main.ts',
    port: await freePort(),
    portVariable: 'COMMAND_PORT',
    env,
  });
  // Not startService: it waits for /readyz 200, which never comes here.
  projector.start();
  commands.spawn();
});

afterAll(async () => {
  await projector?.kill('SIGKILL');
  await commands?.kill('SIGKILL');
});

describe('EventStoreDB unreachable', () => {
  it('makes /readyz answer 503 naming the event store, in both services', async () => {
    for (const service of [projector!, commands!]) {
      const body = await poll(`${service.baseUrl}/readyz`, async () => {
        const response = await fetch(`${service.baseUrl}/readyz`);
        if (response.status !== 503) return undefined;
        expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
        return (await response.json()) as { status: number; checks: Record<string, string> };
      });
      expect(body.status).toBe(503);
      expect(body.checks.eventStore).not.toBe('ok');
    }
  });

  it('answers commands with 503 problem+json, never 500', async () => {
    for (let i = 0; i < 5; i++) {
      const response = await poll('a command answer', async () => {
        const r = await fetch(`${commands!.baseUrl}/users`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: `outage${i}` }),
        });
        return r;
      });
      const problem = (await response.json()) as { status: number; type: string };
      expect(response.status).toBe(503);
      expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(problem.status).toBe(503);
    }
    expect(commands!.output.join('')).not.toMatch(/"status":500/);
  });

  it('keeps every projection waiting (not failed), with the lock free for a standby', async () => {
    const status = await poll('every projection waiting', async () => {
      const s = await projector!.status();
      if (!s || s.length === 0) return undefined;
      expect(s.filter((p) => p.state === 'failed')).toEqual([]);
      return s.every((p) => p.state === 'waiting' && p.errors > 0) ? s : undefined;
    });
    for (const p of status) expect(p.lastError).toMatch(/UNAVAILABLE|No connection|discover/i);

    // The runner gives its lock up while it waits: a standby (here, this test) can take it.
    const [first] = status;
    const name = lockName(first!.name, first!.copy);
    const standby = new pg.Client({ connectionString: fixture.database.url });
    await standby.connect();
    try {
      await poll(
        'the lock taken by a standby',
        async () => {
          const { rows } = await standby.query<{ locked: boolean }>(
            'SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked',
            [name],
          );
          return rows[0]!.locked ? true : undefined;
        },
        15_000,
      );
      expect(await isLockHeld(fixture.pool, name)).toBe(true);
      // The projector sees the holder and stands by for that projection; the others keep waiting.
      await projector!.waitFor(
        (s) => s.some((p) => p.name === first!.name && p.state === 'standby'),
        20_000,
        'standby behind the lock holder',
      );
      const later = await projector!.status();
      expect(later!.filter((p) => p.state === 'failed')).toEqual([]);
    } finally {
      await standby.end();
    }
    expect(projector!.running).toBe(true);
    expect(commands!.running).toBe(true);
  });
});
