import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { comparePositions, timelineKeys, type Position } from '@tweeter/shared';
import { freePort, testRedisUrl } from '@tweeter/shared/testing';
import type { RunnerStatus } from '../src/runtime/runner.ts';
import { appendAll, LogBuilder, waitUntilVisible } from '../src/testing/eventFactory.ts';
import { ProjectorProcess } from '../src/testing/projectorProcess.ts';
import { useProjectorTestEnv } from '../src/testing/projectorTestEnv.ts';
import { buildWorkload, seededRandom } from '../src/testing/syntheticLog.ts';
import { runCli, runCliOnTerminal, startCli } from './adminCli.ts';

/**
 * Every admin command as a real process against real PostgreSQL, Redis and NATS, alone and beside
 * a real projector process.
 */
const threshold = 25;
const fixture = useProjectorTestEnv();
const { redisPrefix } = fixture;
let redis: Redis;
let env: Record<string, string>;
let head: Position | null;
let eventCount = 0;
const oneLine = (text: string) => text.trim().split('\n').length === 1;

beforeAll(async () => {
  const { store } = fixture;
  redis = new Redis(testRedisUrl(), { keyPrefix: redisPrefix });
  env = fixture.env({
    FANOUT_MAX_FOLLOWERS: String(threshold),
    PROJECTOR_PORT: String(await freePort()),
  });
  const log = new LogBuilder();
  buildWorkload(
    log,
    {
      users: 400,
      follows: 8000,
      tweets: 24_000,
      followsFirst: 0.6,
      unfollows: 300,
      tweetDeletions: 300,
      userDeletions: 10,
      profileUpdates: 100,
    },
    seededRandom(7),
  );
  const events = log.take();
  eventCount = events.length;
  await waitUntilVisible(store, await appendAll(store, events, 2000));
  head = await store.headPosition();
});

afterAll(() => {
  redis.disconnect();
});

/** The checkpoint stored in the active copy, read by the CLI's status. */
const checkpointOf = async (name: 'read-model' | 'timelines') => {
  const out = await runCli(['status', '--json'], env);
  const rows = (JSON.parse(out.stdout) as { projections: { name: string; checkpoint: string }[] })
    .projections;
  return rows.find((r) => r.name === name)!.checkpoint as Position | null;
};

describe('refusals: one readable line and a non-zero exit', () => {
  it('an unknown projection', async () => {
    const r = await runCli(['reset', 'nope', '--yes'], env);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      'unknown projection; one of read-model, timelines, integration-events',
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a batch size that is not a whole number above 0', async () => {
    const r = await runCli(['replay', 'timelines', '--batch-size', '0'], env);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("option '--batch-size <events>' argument '0' is invalid");
    expect(r.stderr).toContain('a whole number above 0');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a destructive command without --yes and without a terminal', async () => {
    const r = await runCli(['reset', 'read-model'], env);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toBe(true);
    expect(r.stderr).toMatch(/refusing without a terminal to confirm: .* \(pass --yes\)/);
  });

  it('an unreachable database', async () => {
    const r = await runCli(['status'], {
      ...env,
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/x',
    });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      'tweeter-admin: cannot reach the database at postgres://postgres@127.0.0.1:1/x: connection refused by 127.0.0.1',
    );
  });

  it('rebuild and verify of integration-events', async () => {
    const rebuild = await runCli(
      ['rebuild', 'integration-events', '--zero-downtime', '--yes'],
      env,
    );
    expect(rebuild.code).toBe(1);
    expect(rebuild.stderr).toContain('integration-events has no readers to switch');
    const verify = await runCli(['verify', 'integration-events'], env);
    expect(verify.code).toBe(1);
    expect(oneLine(verify.stderr)).toBe(true);
  });
});

describe('without a projector', () => {
  it('status shows every projection stopped at the start, with the whole log as lag', async () => {
    const r = await runCli(['status'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^PROJECTION\s+COPY\s+STATE\s+CHECKPOINT\s+HEAD\s+LAG/);
    expect(r.stdout).toMatch(
      new RegExp(`read-model\\s+read_model\\s+stopped\\s+-\\s+${head}\\s+${eventCount}`),
    );
    const json = JSON.parse((await runCli(['status', '--json'], env)).stdout) as {
      projections: { name: string; state: string; lagEvents: number; head: string }[];
    };
    expect(json.projections.map((p) => [p.name, p.state, p.lagEvents])).toEqual([
      ['read-model', 'stopped', eventCount],
      ['timelines', 'stopped', eventCount],
      ['integration-events', 'stopped', eventCount],
    ]);
  });

  it('replay, killed with SIGKILL, resumes from its checkpoint and ends identical to the log', async () => {
    const cli = startCli(['replay', 'timelines', '--json', '--batch-size', '2000'], env);
    const meta = timelineKeys('v1').meta;
    // Kill it once its first batch is committed (a checkpoint exists) and well before the head.
    let killedAt: string | null = null;
    for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
      killedAt = await redis.hget(meta, 'checkpoint');
      if (killedAt) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    cli.child.kill('SIGKILL');
    const killed = await cli.done;
    expect(killed.signal).toBe('SIGKILL');
    const stored = (await redis.hget(meta, 'checkpoint')) as Position | null;
    expect(stored).not.toBeNull();
    expect(comparePositions(stored, head)).toBeLessThan(0);

    // Started again, it continues from the stored checkpoint: fewer events than the log holds.
    const again = await runCli(['replay', 'timelines', '--json'], env);
    expect(again.code, again.stderr).toBe(0);
    const figure = JSON.parse(again.stdout.trim()) as Record<string, unknown>;
    expect(figure).toMatchObject({ name: 'replay', projection: 'timelines', unit: 'events/s' });
    expect(figure.events).toBeGreaterThan(0);
    expect(figure.events).toBeLessThan(eventCount);
    expect(figure.value).toBeGreaterThan(0);
    expect(await redis.hget(meta, 'checkpoint')).toBe(head);
    const verify = await runCli(['verify', 'timelines'], env);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });

  it('replay stopped by Ctrl-C exits 130 after a batch, leaves the copy not live, and resumes', async () => {
    const meta = timelineKeys('v1').meta;
    const cli = startCli(
      ['replay', 'timelines', '--from-start', '--yes', '--batch-size', '2000'],
      env,
    );
    // Interrupt once the first batch of the new replay is committed.
    for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
      const checkpoint = await redis.hget(meta, 'checkpoint');
      if (checkpoint && checkpoint !== head) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    cli.child.kill('SIGINT');
    const stopped = await cli.done;
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(stopped.stderr).toMatch(
      /timelines \(v1\): interrupted at checkpoint [0-9a-f]{32} after \d+ events; run replay again to continue from there/,
    );
    const stored = (await redis.hget(meta, 'checkpoint')) as Position | null;
    expect(comparePositions(stored, head)).toBeLessThan(0);
    // Readers must not trust a half-built copy: it is not marked live.
    expect(await redis.hget(meta, 'live')).toBeNull();

    const again = await runCli(['replay', 'timelines', '--json'], env);
    expect(again.code, again.stderr).toBe(0);
    const figure = JSON.parse(again.stdout.trim()) as { events: number };
    expect(figure.events).toBeLessThan(eventCount);
    expect(await redis.hget(meta, 'checkpoint')).toBe(head);
    expect(await redis.hget(meta, 'live')).toBe('1');
  });

  it('replay all brings the others to the head; plain progress lines when not on a terminal', async () => {
    const r = await runCli(['replay', 'all'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/replay read-model: \d+\/\d+ events \(\d+%\), \d+ events\/s, ETA/);
    expect(r.stdout).toContain('read-model: caught up');
    expect(r.stdout).toContain('integration-events: caught up');
    const json = JSON.parse((await runCli(['status', '--json'], env)).stdout) as {
      projections: { lagEvents: number; checkpoint: string }[];
    };
    expect(json.projections.map((p) => p.lagEvents)).toEqual([0, 0, 0]);
  });

  it('a destructive command on a terminal asks, and does only what the operator answers', async () => {
    const stored = async () =>
      (
        await fixture.pool.query<{ position: string | null }>(
          `SELECT position FROM read_model.checkpoint`,
        )
      ).rows[0]?.position ?? null;
    expect(await stored()).toBe(head);
    const no = await runCliOnTerminal(['reset', 'read-model'], env, 'n');
    expect(no.stdout).toContain(
      'read-model (read_model): delete its data and checkpoint so that it rebuilds from the start? [y/N]',
    );
    expect(no.stdout).toContain('tweeter-admin: cancelled');
    expect(no.code).toBe(1);
    expect(await stored()).toBe(head);

    const yes = await runCliOnTerminal(['reset', 'read-model'], env, 'y');
    expect(yes.code, yes.stdout).toBe(0);
    expect(yes.stdout).toContain('read-model (read_model): reset; no projector runs it');
    expect(await stored()).toBeNull();
    expect((await runCli(['replay', 'read-model'], env)).code).toBe(0);
    expect(await stored()).toBe(head);
  });

  it('verify passes on a healthy copy and names what differs after corruption', async () => {
    const ok = await runCli(['verify', 'read-model'], env);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(
      /read-model \(read_model\): identical to a rebuild from the log at checkpoint/,
    );

    const { rows } = await fixture.pool.query<{ id: string }>(
      `SELECT id FROM read_model.users ORDER BY id LIMIT 2`,
    );
    const [a, b] = rows.map((r) => r.id);
    await fixture.pool.query(`UPDATE read_model.users SET display_name = 'Mallory' WHERE id = $1`, [
      a,
    ]);
    await fixture.pool.query(
      `DELETE FROM read_model.tweets WHERE id = (SELECT id FROM read_model.tweets WHERE author_id = $1 LIMIT 1)`,
      [b],
    );
    const bad = await runCli(['verify', 'read-model'], env);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain(`users ${a}: display_name: live "Mallory", rebuilt`);
    expect(bad.stdout).toMatch(/tweets [0-9a-f-]+: missing from the live copy/);
    // Scratch copies are gone.
    const schemas = await fixture.pool.query(
      `SELECT 1 FROM pg_namespace WHERE nspname LIKE 'verify_%'`,
    );
    expect(schemas.rowCount).toBe(0);

    const k = timelineKeys('v1');
    const [entry] = await redis.zrangeBuffer(k.home(a!), 0, 0);
    expect(entry).toBeDefined();
    await redis.zrem(k.home(a!), entry!);
    await redis.hset(k.user(b!), 'd', 'Eve');
    const badTl = await runCli(['verify', 'timelines'], env);
    expect(badTl.code).toBe(1);
    const shown = (key: string) => key.slice(k.namespace.length);
    expect(badTl.stdout).toContain(`${shown(k.home(a!))}: 1 missing`);
    expect(badTl.stdout).toContain(`${shown(k.user(b!))}: d: live "Eve"`);
    expect(await redis.keys(`${redisPrefix}tl:verify*`)).toEqual([]);
  });
});

describe('beside a running projector', () => {
  let projector: ProjectorProcess;
  const caughtUp = (status: RunnerStatus[]) =>
    status.length === 3 &&
    status.every((p) => p.state === 'running' && comparePositions(p.checkpoint, head) >= 0);

  beforeAll(async () => {
    // Repair the corrupted copies first: the projector would not notice them.
    for (const name of ['read-model', 'timelines'])
      expect((await runCli(['replay', name, '--from-start', '--yes'], env)).code).toBe(0);
    projector = new ProjectorProcess(Number(env.PROJECTOR_PORT), env);
    projector.start();
    await projector.waitFor(caughtUp, 60_000, 'caught up');
  });

  afterAll(async () => {
    await projector?.kill('SIGTERM');
  });

  it("status reports the projector's states", async () => {
    const r = await runCli(['status'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/read-model\s+read_model\s+running\s+\S+\s+\S+\s+0/);
    expect(r.stdout).not.toContain('no projector answered');
  });

  it('reset: the projector notices and rebuilds each copy from the start, correctly', async () => {
    for (const name of ['read-model', 'timelines'] as const) {
      const r = await runCli(['reset', name, '--yes'], env);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('the running projector rebuilds it from the start');
      // The stored checkpoint (not the projector's report, which lags a tick) reaches the head.
      const stored = () =>
        name === 'read-model'
          ? fixture.pool
              .query<{ position: string | null }>(`SELECT position FROM read_model.checkpoint`)
              .then((q) => q.rows[0]?.position ?? null)
          : redis.hget(timelineKeys('v1').meta, 'checkpoint');
      for (const deadline = Date.now() + 60_000; (await stored()) !== head;) {
        if (Date.now() > deadline) throw new Error(`${name} was not rebuilt within 60 s`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(await checkpointOf(name)).toBe(head);
      const verify = await runCli(['verify', name], env);
      expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    }
  });

  it('replay of a running copy resets it and follows the projector to the head', async () => {
    const r = await runCli(['replay', 'read-model', '--yes', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toMatchObject({
      projection: 'read-model',
      mode: 'followed',
    });
    expect(await checkpointOf('read-model')).toBe(head);
    const refused = await runCli(['replay', 'read-model'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('is run by a projector');
  });

  it('rebuild switches to a new copy and drops the old; a second concurrent rebuild is refused', async () => {
    const first = startCli(
      ['rebuild', 'read-model', '--zero-downtime', '--yes', '--drain-ms', '1500'],
      env,
    );
    // Wait until the first holds the rebuild lock (it says so when it starts building).
    for (const deadline = Date.now() + 30_000; !first.output().stderr.includes('building');) {
      if (Date.now() > deadline)
        throw new Error(`rebuild did not start: ${JSON.stringify(first.output())}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const second = await runCli(['rebuild', 'read-model', '--zero-downtime', '--yes'], env);
    expect(second.code).toBe(1);
    expect(second.stderr.trim()).toBe('tweeter-admin: another rebuild of read-model is running');
    const done = await first.done;
    expect(done.code, done.stderr).toBe(0);
    const copy = /rebuilt into (read_model_\d{8}_\d{6})/.exec(done.stdout)?.[1];
    expect(copy).toBeDefined();
    const schemas = await fixture.pool.query<{ nspname: string }>(
      `SELECT nspname FROM pg_namespace WHERE nspname LIKE 'read_model%'`,
    );
    expect(schemas.rows.map((r) => r.nspname)).toEqual([copy]);
    await projector.waitFor(
      (s) => caughtUp(s) && s.some((p) => p.name === 'read-model' && p.copy === copy),
      30_000,
      'projector on the new copy',
    );
    const verify = await runCli(['verify', 'read-model'], env);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });
});
