import { natsNames } from '@tweeter/shared';
import { describe, expect, it } from 'vitest';
import { eventually } from '../testing/dispatcherUnderTest.ts';
import { tweetPosted } from '../testing/events.ts';
import { useDispatcher } from '../testing/useDispatcher.ts';
import { createTestUser } from '../testing/users.ts';
import { consumerName } from './intake.ts';

const fixture = useDispatcher({ start: false, receiver: true });
const { natsPrefix } = fixture;

const deliveriesCount = async () =>
  (
    await fixture.service.dispatcher.ctx.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM webhooks.deliveries`,
    )
  ).rows[0]!.n;

describe('intake from JetStream', () => {
  it('a message seen again (republished, or replayed by a recreated consumer) creates nothing twice', async () => {
    const { call, side } = fixture;
    const receiver = fixture.receiver;
    await fixture.start();
    const user = await createTestUser(side.eventStore);
    for (let i = 0; i < 2; i++) {
      const created = await call('POST', '/webhooks', {
        token: user.token,
        body: { url: receiver.url, events: ['tweet.posted'] },
      });
      expect(created.status).toBe(201);
    }
    const { subjectPrefix } = natsNames(natsPrefix);
    const js = side.nc.jetstream();
    const event = tweetPosted(user.id);
    await js.publish(`${subjectPrefix}.tweet.posted`, JSON.stringify(event), { msgID: event.id });
    await receiver.waitFor((r) => r.successes.length === 2);
    expect(await deliveriesCount()).toBe(2);

    // The same event again under another message id: the broker keeps it, the dispatcher does not.
    await js.publish(`${subjectPrefix}.tweet.posted`, JSON.stringify(event), {
      msgID: `${event.id}-again`,
    });
    // Junk on the subject is skipped, not retried forever.
    await js.publish(`${subjectPrefix}.tweet.posted`, '{"not":"an event"}');
    const marker = tweetPosted(user.id, 'marker');
    await js.publish(`${subjectPrefix}.tweet.posted`, JSON.stringify(marker), { msgID: marker.id });
    await receiver.waitFor((r) => r.successes.length === 4);
    expect(await deliveriesCount()).toBe(4);

    // The whole stream delivered again: stop, drop the durable consumer, start (it is recreated
    // from the oldest subscription's creation time, so every message above comes once more).
    await fixture.stop();
    const jsm = await side.nc.jetstreamManager();
    await jsm.consumers.delete(natsNames(natsPrefix).stream, consumerName);
    await fixture.start();
    const replayed = await eventually(async () => {
      const info = await jsm.consumers
        .info(natsNames(natsPrefix).stream, consumerName)
        .catch(() => undefined); // not recreated yet
      if (!info) return undefined;
      return info.num_pending === 0 && info.num_ack_pending === 0 ? info : undefined;
    });
    // All four messages went through the new consumer again.
    expect(replayed.delivered.consumer_seq).toBe(4);
    await new Promise((r) => setTimeout(r, 300));
    expect(await deliveriesCount()).toBe(4);
    expect(receiver.requests).toHaveLength(4);
  });
});
