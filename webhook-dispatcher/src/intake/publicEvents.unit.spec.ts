import { describe, expect, it } from 'vitest';
import { subjectUserOf, type PublicEvent } from './publicEvents.ts';

const a = '01890a5d-ac96-774b-bcce-b302099a8057';
const b = '01890a5d-ac96-774b-bcce-b302099a8058';
const event = (type: PublicEvent['type'], data: Record<string, unknown>): PublicEvent => ({
  id: a,
  type,
  occurredAt: '2026-01-01T00:00:00.000Z',
  data,
});

describe('the user an event is about', () => {
  it('is the author of a tweet, the followee of a follow, the user of a user event', () => {
    expect(subjectUserOf(event('tweet.posted', { authorId: a, tweetId: b }))).toBe(a);
    expect(subjectUserOf(event('tweet.deleted', { authorId: a, tweetId: b }))).toBe(a);
    expect(subjectUserOf(event('user.followed', { followerId: a, followeeId: b }))).toBe(b);
    expect(subjectUserOf(event('user.unfollowed', { followerId: a, followeeId: b }))).toBe(b);
    for (const type of ['user.created', 'user.updated', 'user.deleted'] as const)
      expect(subjectUserOf(event(type, { userId: a }))).toBe(a);
  });

  it('is null when the data does not name one', () => {
    expect(subjectUserOf(event('tweet.posted', { authorId: 'nope' }))).toBeNull();
  });
});
