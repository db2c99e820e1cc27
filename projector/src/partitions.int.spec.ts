import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { comparePositions, timelineKeys } from '@tweeter/shared';
import { freePort, testRedisServers } from '@tweeter/shared/testing';
import { replayToHead } from './runtime/replay.ts';
import type { RunnerStatus } from './runtime/runner.ts';
import { appendAll, LogBuilder, waitUntilVisible } from './testing/eventFactory.ts';
import { ProjectorProcess } from './testing/projectorProcess.ts';
import { runCli } from '../test/adminCli.ts';
import { useProjectorTestEnv } from './testing/projectorTestEnv.ts';
import { ReferenceModel } from './testing/referenceModel.ts';
import { isBookkeeping } from './timelines/compareCopies.ts';
import { TimelinesProjection } from './timelines/timelinesProjection.ts';
import { snapshotTimelines } from './verification/snapshots.ts';

const partitions = 6;
const fixture = useProjectorTestEnv();

const timelinesOf = (status: RunnerStatus[] | null) => status?.find((p) => p.name === 'timelines');
const held = (status: RunnerStatus[] | null) =>
  (timelinesOf(status)?.partitions ?? []).filter((p) => p.state === 'held').map((p) => p.partition);

describe('fan-out partitions shared by two projector processes', () => {
  it('split between the processes; the survivor of a SIGKILL takes them all; nothing lost or doubled', async () => {
    const { store } = fixture;
    const log = new LogBuilder();
    const authors = [log.userCreated(), log.userCreated(), log.userCreated()];
    const fans = Array.from({ length: 1500 }, () => log.userCreated());
    for (const f of fans) for (const a of authors) log.followed(f, a);
    const ref = new ReferenceModel();
    let events = log.take();
    for (const e of events) ref.apply(e);
    await appendAll(store, events, 1000);

    const env = fixture.env({ TIMELINES_PARTITIONS: String(partitions) });
    const one = new ProjectorProcess(await freePort(), env);
    const two = new ProjectorProcess(await freePort(), env);
    one.start();
    two.start();
    // Both take a share: neither holds them all, together they hold every partition.
    const shared = async () => {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const [a, b] = [held(await one.status()), held(await two.status())];
        if (a.length > 0 && b.length > 0 && new Set([...a, ...b]).size === partitions)
          return [a, b];
        if (Date.now() > deadline)
          throw new Error(`partitions not shared: ${a.join()} / ${b.join()}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    const [heldByOne, heldByTwo] = await shared();
    expect(heldByOne!.filter((p) => heldByTwo!.includes(p))).toEqual([]);

    // A large fan-out (80 posts × 1,500 followers each = 120,000 home entries), with the
    // process that holds partitions killed in the middle of it.
    for (let i = 0; i < 80; i++) log.tweetPosted(authors[i % authors.length]!);
    events = log.take();
    for (const e of events) ref.apply(e);
    const appending = appendAll(store, events, 5);
    await new Promise((r) => setTimeout(r, 300));
    await one.kill('SIGKILL');
    const last = await appending;
    await waitUntilVisible(store, last);
    const head = await store.headPosition();

    // The survivor takes every partition within a few seconds, and catches up.
    const tookOver = Date.now();
    await two.waitFor((s) => held(s).length === partitions, 15_000, 'all partitions held');
    const takeoverMs = Date.now() - tookOver;
    expect(takeoverMs).toBeLessThan(10_000);
    await two.waitFor(
      (s) =>
        (timelinesOf(s)?.partitions ?? []).every(
          (p) => comparePositions(p.checkpoint, head) >= 0,
        ) && comparePositions(timelinesOf(s)?.checkpoint ?? null, head) >= 0,
      60_000,
      'every partition caught up',
    );
    // tweeter-admin status shows each partition: held, by the survivor, caught up.
    const shown = await runCli(['status', '--json'], env);
    expect(shown.code, shown.stderr).toBe(0);
    const rows = (
      JSON.parse(shown.stdout) as {
        projections: {
          name: string;
          partitions?: { state: string; owner: string; lagEvents: number }[];
        }[];
      }
    ).projections.find((p) => p.name === 'timelines')?.partitions;
    expect(rows).toHaveLength(partitions);
    const survivor = new Set(rows!.map((r) => r.owner));
    expect(rows!.every((r) => r.state === 'held' && r.lagEvents === 0)).toBe(true);
    expect(survivor.size).toBe(1);
    const table = await runCli(['status'], env);
    expect(table.stdout).toMatch(
      /fan-out partitions:\n\s*PARTITION +STATE +OWNER +CHECKPOINT +LAG/,
    );

    // A process started later takes a share from the one running.
    const late = new ProjectorProcess(await freePort(), env);
    late.start();
    await late.waitFor((s) => held(s).length >= partitions / 2, 20_000, 'a share taken');
    await two.waitFor((s) => held(s).length <= partitions / 2, 10_000, 'a share given up');
    await Promise.all([late.kill('SIGTERM'), two.kill('SIGTERM')]);
    console.log(`partitions: survivor held all ${partitions} within ${takeoverMs} ms of the kill`);

    expect(await fixture.differencesFrom(ref)).toEqual([]);
    const clean = fixture.timelines('clean', 10_000);
    await replayToHead(clean, store, { batchSize: 2000 });
    const live = await snapshotTimelines(
      testRedisServers(),
      fixture.redisPrefix,
      timelineKeys('v1').namespace,
    );
    const rebuilt = await snapshotTimelines(
      testRedisServers(),
      fixture.redisPrefix,
      timelineKeys('clean').namespace,
    );
    const differing = [...new Set([...Object.keys(live), ...Object.keys(rebuilt)])]
      .filter((key) => !isBookkeeping(key))
      .filter((key) => JSON.stringify(live[key]) !== JSON.stringify(rebuilt[key]))
      .slice(0, 3);
    expect(differing).toEqual([]);
    expect(Object.keys(live).length).toBeGreaterThan(fans.length);
    await clean.reset();
    await clean.close();
  });

  it('a new copy reports a checkpoint only as far as every partition has applied', async () => {
    const { store } = fixture;
    const log = new LogBuilder();
    const authors = [log.userCreated(), log.userCreated()];
    for (let i = 0; i < 200; i++) {
      const fan = log.userCreated();
      for (const a of authors) log.followed(fan, a);
    }
    for (let i = 0; i < 20; i++) log.tweetPosted(authors[i % 2]!);
    const last = await appendAll(store, log.take(), 1000);
    await waitUntilVisible(store, last);
    const head = await store.headPosition();

    const env = fixture.env({
      TIMELINES_PARTITIONS: '3',
      REDIS_PREFIX: `${fixture.redisPrefix}new:`,
    });
    const projector = new ProjectorProcess(await freePort(), env);
    projector.start();
    const ahead: string[] = [];
    try {
      await projector.waitFor(
        (status) => {
          const timelines = timelinesOf(status);
          const checkpoint = timelines?.checkpoint ?? null;
          const applied = timelines?.partitions ?? [];
          if (
            checkpoint !== null &&
            (applied.length < 3 ||
              applied.some((p) => comparePositions(p.checkpoint, checkpoint) < 0))
          )
            ahead.push(
              `${checkpoint} with partitions ${JSON.stringify(applied.map((p) => p.checkpoint))}`,
            );
          return comparePositions(checkpoint, head) >= 0;
        },
        30_000,
        'the copy caught up',
        20,
      );
    } finally {
      await projector.kill('SIGTERM');
    }
    expect(ahead).toEqual([]);
  });
});

describe('a replay that writes homes itself (tweeter-admin replay) on a copy with partitions', () => {
  it('first applies the chunks no applier has applied: none is skipped afterwards', async () => {
    const { store } = fixture;
    const prefix = `${fixture.redisPrefix}drain:`;
    const copy = (inline: boolean, version = 'v1') =>
      new TimelinesProjection({
        redis: testRedisServers(),
        redisPrefix: prefix,
        version,
        fanoutMaxFollowers: 10_000,
        partitions: version === 'v1' ? 3 : 0,
        inline,
        logger: pino({ level: 'silent' }),
      });
    const log = new LogBuilder();
    const authors = [log.userCreated(), log.userCreated()];
    const fans = Array.from({ length: 60 }, () => log.userCreated());
    for (const f of fans) for (const a of authors) log.followed(f, a);
    for (let i = 0; i < 10; i++) log.tweetPosted(authors[i % 2]!);
    await appendAll(store, log.take(), 500);

    // A projector planned the log into chunks (several per partition) and stopped before any
    // applier applied them.
    const planner = copy(false);
    await replayToHead(planner, store, { batchSize: 40 });
    const pending = await planner.partitions();
    await planner.close();
    expect(pending.every((p) => p.pending > 1)).toBe(true);

    // More posts and an unfollow, then the admin CLI's replay of the copy, with no projector.
    for (let i = 0; i < 6; i++) log.tweetPosted(authors[i % 2]!);
    log.unfollowed(fans[0]!, authors[0]!);
    await appendAll(store, log.take(), 500);
    const admin = copy(true);
    await replayToHead(admin, store, { batchSize: 1000 });
    const after = await admin.partitions();
    await admin.close();

    // Every home holds what a clean rebuild gives: the posts of the chunks included.
    const clean = copy(true, 'clean');
    await replayToHead(clean, store, { batchSize: 1000 });
    await clean.close();
    const namespace = (version: string) => timelineKeys(version).namespace;
    const [replayed, rebuilt] = await Promise.all(
      ['v1', 'clean'].map((v) => snapshotTimelines(testRedisServers(), prefix, namespace(v))),
    );
    // (The file's earlier tests' users are in the log too.)
    const homeKey = (user: string) => timelineKeys('clean').home(user.toLowerCase());
    for (const user of [...fans, ...authors])
      expect(rebuilt![homeKey(user).slice(namespace('clean').length)], user).toBeDefined();
    const differing = [...new Set([...Object.keys(replayed!), ...Object.keys(rebuilt!)])]
      .filter((key) => !isBookkeeping(key))
      .filter((key) => JSON.stringify(replayed![key]) !== JSON.stringify(rebuilt![key]));
    expect(differing).toEqual([]);
    // Each partition moved past its chunks, by the replay.
    expect(after.map((p) => p.pending)).toEqual([0, 0, 0]);
    expect(after.every((p) => p.owner?.startsWith('replay:'))).toBe(true);
  });
});
