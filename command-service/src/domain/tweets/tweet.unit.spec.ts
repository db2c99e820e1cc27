import { describe, it } from 'vitest';
import { deciderSpec } from '../../testing/givenWhenThen.ts';
import type { UserEvent } from '../users/user.ts';
import { decideTweet, tweetFoldOf, type TweetEvent } from './tweet.ts';

const alice = '01936b2a-7c3e-7d1a-9f4e-2b8c5d6e7f80';
const bob = '01936b2a-7c3e-7d1a-9f4e-2b8c5d6e7f81';
const tweetId = '01936b2a-7c3e-7d1a-9f4e-2b8c5d6e7f99';
const createdAt = '2026-11-24T10:15:30.123Z';
const spec = deciderSpec(decideTweet, tweetFoldOf(tweetId));
const otherTweetId = '01936b2a-7c3e-7d1a-9f4e-2b8c5d6e7f98';
const userCreated = (userId: string): UserEvent => ({
  type: 'UserCreated',
  data: { userId, username: 'u', displayName: 'u', bio: '', tokenHash: 'c'.repeat(64), createdAt },
});
const posted: TweetEvent = {
  type: 'TweetPosted',
  data: { tweetId, authorId: alice, text: 'hello', createdAt },
};
const tweetDeleted: TweetEvent = { type: 'TweetDeleted', data: { tweetId, authorId: alice } };
const post = { type: 'PostTweet' as const, data: posted.data };
const remove = (actorId: string) => ({ type: 'DeleteTweet' as const, data: { tweetId, actorId } });

describe('posting a tweet', () => {
  it('records TweetPosted', () =>
    spec
      .given([userCreated(alice)])
      .when(post)
      .then([posted]));
  it('refuses a deleted author', () =>
    spec
      .given([userCreated(alice), { type: 'UserDeleted', data: { userId: alice } }])
      .when(post)
      .thenFails('unauthorized'));
  it("counts only its own tweet in a stream of many (its author's)", () =>
    spec
      .given([
        userCreated(alice),
        { type: 'TweetPosted', data: { ...posted.data, tweetId: otherTweetId } },
        { type: 'TweetDeleted', data: { tweetId: otherTweetId, authorId: alice } },
      ])
      .when(post)
      .then([posted]));
  it('refuses an id that is taken', () =>
    spec
      .given([userCreated(alice), posted])
      .when(post)
      .thenFails('conflict'));
});

describe('deleting a tweet', () => {
  it('records TweetDeleted for the author', () =>
    spec
      .given([userCreated(alice), posted])
      .when(remove(alice))
      .then([tweetDeleted]));
  it('refuses anyone but the author', () =>
    spec
      .given([userCreated(bob), posted])
      .when(remove(bob))
      .thenFails('forbidden'));
  it('refuses an unknown tweet', () =>
    spec
      .given([userCreated(alice)])
      .when(remove(alice))
      .thenFails('not-found'));
  it('refuses a tweet deleted already', () =>
    spec
      .given([userCreated(alice), posted, tweetDeleted])
      .when(remove(alice))
      .thenFails('not-found'));
  it('refuses a deleted actor', () =>
    spec
      .given([userCreated(alice), { type: 'UserDeleted', data: { userId: alice } }, posted])
      .when(remove(alice))
      .thenFails('unauthorized'));
});
