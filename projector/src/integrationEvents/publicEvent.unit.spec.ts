import { describe, expect, it } from 'vitest';
import { tweeterEventTypes } from '@tweeter/shared';
import { asDecoded, LogBuilder } from '../testing/eventFactory.ts';
import { subjectOf, toPublicEvent } from './publicEvent.ts';

describe('public integration events', () => {
  it('maps every event type to its dotted name, subject and data without tokenHash', () => {
    const log = new LogBuilder();
    const a = log.userCreated('alice');
    const b = log.userCreated('bob');
    log.profileUpdated(a, { bio: 'hi' });
    log.followed(b, a);
    log.unfollowed(b, a);
    const t = log.tweetPosted(a, 'hello');
    log.tweetDeleted(t, a);
    log.userDeleted(b);
    const events = asDecoded(log.take());
    expect(new Set(events.map((e) => e.type))).toEqual(new Set(tweeterEventTypes));
    const published = events.map(toPublicEvent);
    expect(published.map((p) => p.type)).toEqual([
      'user.created',
      'user.created',
      'user.updated',
      'user.followed',
      'user.unfollowed',
      'tweet.posted',
      'tweet.deleted',
      'user.deleted',
    ]);
    for (const p of published) expect(JSON.stringify(p)).not.toContain('tokenHash');
    expect(published[0]).toMatchObject({
      id: events[0]!.id,
      occurredAt: events[0]!.metadata.occurredAt,
      data: { userId: a, username: 'alice', displayName: 'alice', bio: '' },
      metadata: { schemaVersion: 1 },
    });
    expect(subjectOf('x.tweeter.events', events[5]!)).toBe('x.tweeter.events.tweet.posted');
  });
});
