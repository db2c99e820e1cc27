import { describe, it } from 'vitest';
import { deciderSpec } from '../../testing/givenWhenThen.ts';
import type { UserEvent } from '../users/user.ts';
import { decideFollow, followFold, type FollowEvent } from './follow.ts';

const spec = deciderSpec(decideFollow, followFold);
const alice = '01936b2a-7c3e-7d1a-9f4e-2b8c5d6e7f80';
const bob = '01936b2a-7c3e-7d1a-9f4e-2b8c5d6e7f81';
const bobCreated: UserEvent = {
  type: 'UserCreated',
  data: {
    userId: bob,
    username: 'bob',
    displayName: 'bob',
    bio: '',
    tokenHash: 'b'.repeat(64),
    createdAt: '2026-11-24T10:15:30.123Z',
  },
};
const bobDeleted: UserEvent = { type: 'UserDeleted', data: { userId: bob } };
const bobAbandoned: UserEvent = { type: 'UserRegistrationAbandoned', data: { userId: bob } };
const edge = { followerId: alice, followeeId: bob };
const followed: FollowEvent = { type: 'Followed', data: edge };
const unfollowed: FollowEvent = { type: 'Unfollowed', data: edge };
const follow = (actorId = alice) => ({ type: 'Follow' as const, data: { ...edge, actorId } });
const unfollow = (actorId = alice) => ({ type: 'Unfollow' as const, data: { ...edge, actorId } });

describe('following', () => {
  it('records Followed', () => spec.given([bobCreated]).when(follow()).then([followed]));
  it('is idempotent: a repeat records nothing', () =>
    spec.given([bobCreated, followed]).when(follow()).thenNothing());
  it('follows again after an unfollow', () =>
    spec.given([bobCreated, followed, unfollowed]).when(follow()).then([followed]));
  it('refuses following yourself', () =>
    spec
      .given([])
      .when({ type: 'Follow', data: { followerId: alice, followeeId: alice, actorId: alice } })
      .thenFails('validation'));
  it('refuses an unknown target', () => spec.given([]).when(follow()).thenFails('not-found'));
  it('refuses a deleted target', () =>
    spec.given([bobCreated, bobDeleted]).when(follow()).thenFails('not-found'));
  it('refuses an abandoned registration as target', () =>
    spec.given([bobAbandoned]).when(follow()).thenFails('not-found'));
  it("refuses changing someone else's follows", () =>
    spec.given([bobCreated]).when(follow(bob)).thenFails('forbidden'));
});

describe('unfollowing', () => {
  it('records Unfollowed', () =>
    spec.given([bobCreated, followed]).when(unfollow()).then([unfollowed]));
  it('is idempotent: not following records nothing', () =>
    spec.given([bobCreated]).when(unfollow()).thenNothing());
  it('records nothing twice', () =>
    spec.given([bobCreated, followed, unfollowed]).when(unfollow()).thenNothing());
  it('refuses an unknown target', () => spec.given([]).when(unfollow()).thenFails('not-found'));
  it('records nothing for a deleted target (its edges are gone already)', () =>
    spec.given([bobCreated, followed, bobDeleted]).when(unfollow()).thenNothing());
  it("refuses changing someone else's follows", () =>
    spec.given([bobCreated, followed]).when(unfollow(bob)).thenFails('forbidden'));
});
