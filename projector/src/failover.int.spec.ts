import { describe, expect, it } from 'vitest';
import { comparePositions } from '@tweeter/shared';
import { freePort } from '@tweeter/shared/testing';
import { appendAll, LogBuilder, waitUntilVisible } from './testing/eventFactory.ts';
import { ProjectorProcess } from './testing/projectorProcess.ts';
import { useProjectorTestEnv } from './testing/projectorTestEnv.ts';
import { ReferenceModel } from './testing/referenceModel.ts';
import { buildWorkload, seededRandom } from './testing/syntheticLog.ts';

const fixture = useProjectorTestEnv();

describe('two projector processes', () => {
  it('the standby takes over within seconds when the active one dies, and finishes', async () => {
    const { store } = fixture;
    const log = new LogBuilder();
    buildWorkload(
      log,
      {
        users: 100,
        follows: 800,
        tweets: 3000,
        unfollows: 50,
        tweetDeletions: 50,
        userDeletions: 5,
      },
      seededRandom(7),
    );
    const events = log.take();
    const ref = new ReferenceModel();
    for (const e of events) ref.apply(e);
    const half = Math.floor(events.length / 2);
    await appendAll(store, events.slice(0, half), 500);
    const env = fixture.env();
    const active = new ProjectorProcess(await freePort(), env);
    const standby = new ProjectorProcess(await freePort(), env);
    try {
      active.start();
      await active.waitFor(
        (s) => s.length === 3 && s.every((p) => p.state === 'running'),
        20_000,
        'active',
      );
      standby.start();
      await standby.waitFor(
        (s) => s.length === 3 && s.every((p) => p.state === 'standby'),
        20_000,
        'standby',
      );

      const last = await appendAll(store, events.slice(half), 100);
      await active.kill('SIGKILL');
      const killedAt = Date.now();
      await standby.waitFor((s) => s.every((p) => p.state === 'running'), 10_000, 'take-over');
      const takeOverMs = Date.now() - killedAt;
      expect(takeOverMs).toBeLessThan(5000);

      await waitUntilVisible(store, last);
      const head = await store.headPosition();
      await standby.waitFor(
        (s) => s.every((p) => p.state === 'running' && comparePositions(p.checkpoint, head) >= 0),
        60_000,
        'catch-up on the standby',
      );
      expect(await fixture.differencesFrom(ref)).toEqual([]);
    } finally {
      await active.kill();
      await standby.kill('SIGTERM');
    }
  });
});
