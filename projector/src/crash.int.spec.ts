import { describe, expect, it } from 'vitest';
import { connect } from 'nats';
import { comparePositions, natsNames, timelineKeys, type Position } from '@tweeter/shared';
import { freePort, testNatsUrl, testRedisServers } from '@tweeter/shared/testing';
import { ReadModelProjection } from './readModel/readModelProjection.ts';
import { replayToHead } from './runtime/replay.ts';
import type { RunnerStatus } from './runtime/runner.ts';
import { appendAll, waitUntilVisible } from './testing/eventFactory.ts';
import { ProjectorProcess } from './testing/projectorProcess.ts';
import { useProjectorTestEnv } from './testing/projectorTestEnv.ts';
import { crashLog, crashThreshold } from './testing/crashLog.ts';
import { isBookkeeping } from './timelines/compareCopies.ts';
import { snapshotReadModel, snapshotTimelines } from './verification/snapshots.ts';

const threshold = crashThreshold;
const fixture = useProjectorTestEnv();
const { redisPrefix, natsPrefix } = fixture;

const caughtUp = (head: Position | null) => (status: RunnerStatus[]) =>
  status.length === 3 &&
  status.every((p) => p.state === 'running' && p.live && comparePositions(p.checkpoint, head) >= 0);

describe('a projector killed at random moments', () => {
  it('ends identical to a clean rebuild: nothing lost, nothing doubled', async () => {
    const { store, pool } = fixture;
    const { events, ref, random } = crashLog('crash test');
    // Half of the log is there before the first start (catch-up); the rest arrives in rounds: a
    // backlog appended while the projector is down, and more appended while it runs, until it is
    // killed at a random moment. Rounds go on until at least one kill hit a projector with work in
    // hand (a backlog or arrivals not yet applied), at least five rounds.
    const early = Math.floor(events.length * 0.5);
    let lastPosition = await appendAll(store, events.slice(0, early), 500);
    const env = fixture.env({
      FANOUT_MAX_FOLLOWERS: String(threshold),
      TIMELINES_PARTITIONS: process.env.CRASH_PARTITIONS ?? '4',
    });
    const projector = new ProjectorProcess(await freePort(), env);
    const slice = Math.ceil((events.length - early) / 10);
    let appended = early;
    let killedMidWork = 0;
    for (let round = 0; (round < 5 || killedMidWork === 0) && round < 10; round++) {
      const backlog = Math.min(events.length, appended + slice);
      if (appended < backlog)
        lastPosition = await appendAll(store, events.slice(appended, backlog), 100);
      appended = backlog;
      projector.start();
      await projector.waitFor((s) => s.length === 3, 20_000, 'startup');
      let appendingDone = false;
      const appending = (async () => {
        const end = Math.min(events.length, appended + slice);
        while (appended < end) {
          const next = Math.min(end, appended + 25);
          lastPosition = await appendAll(store, events.slice(appended, next), 25);
          appended = next;
        }
        appendingDone = true;
      })();
      await new Promise((r) => setTimeout(r, random() * 800));
      const before = await projector.status();
      const headNow = await store.headPosition();
      if (!appendingDone || before?.some((p) => comparePositions(p.checkpoint, headNow) < 0))
        killedMidWork++;
      await projector.kill('SIGKILL');
      await appending;
    }
    expect(killedMidWork).toBeGreaterThan(0);
    if (appended < events.length)
      lastPosition = await appendAll(store, events.slice(appended), 500);
    await waitUntilVisible(store, lastPosition);
    const head = await store.headPosition();
    projector.start();
    await projector.waitFor(caughtUp(head), 60_000, 'catching up after the kills');
    await projector.kill('SIGTERM');

    // The clean rebuild: the same code into fresh copies, in one go.
    const cleanReadModel = new ReadModelProjection(pool, 'clean_read_model');
    await replayToHead(cleanReadModel, store, { batchSize: 5000 });
    const cleanTimelines = fixture.timelines('clean', threshold);
    await replayToHead(cleanTimelines, store, { batchSize: 2000 });

    expect(await snapshotReadModel(pool, 'read_model')).toEqual(
      await snapshotReadModel(pool, 'clean_read_model'),
    );
    const live = await snapshotTimelines(
      testRedisServers(),
      redisPrefix,
      timelineKeys('v1').namespace,
    );
    const clean = await snapshotTimelines(
      testRedisServers(),
      redisPrefix,
      timelineKeys('clean').namespace,
    );
    expect(Object.keys(live).length).toBeGreaterThan(1000);
    const differing = [...new Set([...Object.keys(live), ...Object.keys(clean)])]
      .filter((key) => !isBookkeeping(key))
      .filter((key) => JSON.stringify(live[key]) !== JSON.stringify(clean[key]))
      .slice(0, 5)
      .map((key) => ({ key, live: live[key], clean: clean[key] }));
    expect(differing).toEqual([]);
    expect(await fixture.differencesFrom(ref)).toEqual([]);
    await cleanTimelines.reset();
    await cleanTimelines.close();

    // Each catalogue event is in the stream exactly once.
    const nc = await connect({ servers: testNatsUrl().replace('nats://', '') });
    const info = await (await nc.jetstreamManager()).streams.info(natsNames(natsPrefix).stream);
    await nc.close();
    expect(info.state.messages).toBe(events.length);
  });
});
