import { describe, expect, it } from 'vitest';
import { comparePositions, timelineKeys } from '@tweeter/shared';
import { testRedisServers } from '@tweeter/shared/testing';
import { ReadModelProjection } from '../src/readModel/readModelProjection.ts';
import { replayToHead } from '../src/runtime/replay.ts';
import { appendAll, waitUntilVisible } from '../src/testing/eventFactory.ts';
import { useProjectorTestEnv } from '../src/testing/projectorTestEnv.ts';
import { crashLog, crashThreshold } from '../src/testing/crashLog.ts';
import { isBookkeeping } from '../src/timelines/compareCopies.ts';
import { snapshotTimelines } from '../src/verification/snapshots.ts';
import { runCli, startCli } from './adminCli.ts';

/**
 * `tweeter-admin replay timelines` plans each batch while the previous one lands, and a build from
 * the start of the log reads nothing of the shared keys (followGraphCache.ts): killed with SIGKILL
 * at random moments, on an empty copy and part way, then run to the end, it must leave every key
 * as a clean rebuild does and every home as the reference model says.
 */
const threshold = crashThreshold;
const fixture = useProjectorTestEnv();

describe('a timelines replay killed at random moments', () => {
  it('ends identical to a clean rebuild and to the reference model', async () => {
    const { store, pool } = fixture;
    const { events, ref, random } = crashLog('replay crash test');
    await waitUntilVisible(store, await appendAll(store, events, 2000));
    const head = await store.headPosition();
    const env = fixture.env({ FANOUT_MAX_FOLLOWERS: String(threshold) });
    const copy = fixture.timelines('v1', threshold);

    // Each round starts a replay with a batch size of its own: from the start of the log (an empty
    // copy: nothing read of the shared keys) every other round and whenever the copy is complete,
    // else from where the last one was killed. It is killed at a random moment of its start, or a
    // random time after its checkpoint first moved (a reset included). Kills part way count.
    let killedPartWay = 0;
    let killedEmpty = 0;
    for (let round = 0; round < 14 && (round < 6 || killedPartWay < 4); round++) {
      const startedFrom = await copy.checkpoint();
      const fromStart = round % 2 === 0 || startedFrom === head;
      const batchSize = 100 + Math.floor(random() * 400);
      const cli = startCli(
        [
          'replay',
          'timelines',
          ...(fromStart ? ['--from-start', '--yes'] : []),
          '--batch-size',
          String(batchSize),
        ],
        env,
      );
      let exited = false;
      void cli.done.then(() => (exited = true));
      const mode = random();
      if (mode < 0.2) await new Promise((r) => setTimeout(r, 500 + random() * 2500));
      else if (fromStart && mode < 0.4) {
        // Right after the reset, before or at the first checkpoint.
        for (const deadline = Date.now() + 30_000; Date.now() < deadline && !exited;) {
          if ((await copy.checkpoint()) === null) break;
          await new Promise((r) => setTimeout(r, 1));
        }
        await new Promise((r) => setTimeout(r, random() * 30));
      } else {
        for (const deadline = Date.now() + 30_000; Date.now() < deadline && !exited;) {
          if ((await copy.checkpoint()) !== startedFrom) break;
          await new Promise((r) => setTimeout(r, 2));
        }
        await new Promise((r) => setTimeout(r, random() * 250));
      }
      cli.child.kill('SIGKILL');
      const result = await cli.done;
      const stored = await copy.checkpoint();
      if (result.signal === 'SIGKILL' && comparePositions(stored, head) < 0) {
        killedPartWay++;
        if (stored === null) killedEmpty++;
      }
    }
    console.log(
      `replay crash test: ${killedPartWay} kills part way, ${killedEmpty} of them with no checkpoint`,
    );
    expect(killedPartWay).toBeGreaterThanOrEqual(4);

    const done = await runCli(['replay', 'timelines'], env);
    expect(done.code, done.stderr).toBe(0);
    expect(await copy.checkpoint()).toBe(head);
    await copy.close();

    // The reference check reads the users from the read model: built here, in one go.
    await replayToHead(new ReadModelProjection(pool, 'read_model'), store, { batchSize: 5000 });
    expect(await fixture.differencesFrom(ref)).toEqual([]);

    const clean = fixture.timelines('clean', threshold);
    await replayToHead(clean, store, { batchSize: 1000 });
    const namespaces = ['v1', 'clean'].map((v) => timelineKeys(v).namespace);
    const [replayed, rebuilt] = await Promise.all(
      namespaces.map((ns) => snapshotTimelines(testRedisServers(), fixture.redisPrefix, ns)),
    );
    expect(Object.keys(replayed!).length).toBeGreaterThan(1000);
    const differing = [...new Set([...Object.keys(replayed!), ...Object.keys(rebuilt!)])]
      .filter((key) => !isBookkeeping(key))
      .filter((key) => JSON.stringify(replayed![key]) !== JSON.stringify(rebuilt![key]))
      .slice(0, 5)
      .map((key) => ({ key, replayed: replayed![key], rebuilt: rebuilt![key] }));
    expect(differing).toEqual([]);
    await clean.reset();
    await clean.close();
  });
});
