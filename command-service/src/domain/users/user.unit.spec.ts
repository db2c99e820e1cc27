import { describe, it } from 'vitest';
import { deciderSpec } from '../../testing/givenWhenThen.ts';
import { decideUser, userFold, type UserEvent } from './user.ts';

const spec = deciderSpec(decideUser, userFold);
const alice = '01936b2a-7c3e-7d1a-9f4e-2b8c5d6e7f80';
const bob = '01936b2a-7c3e-7d1a-9f4e-2b8c5d6e7f81';
const createdAt = '2026-11-24T10:15:30.123Z';
const tokenHash = 'a'.repeat(64);

const created: UserEvent = {
  type: 'UserCreated',
  data: { userId: alice, username: 'alice', displayName: 'Alice', bio: '', tokenHash, createdAt },
};
const deleted: UserEvent = { type: 'UserDeleted', data: { userId: alice } };
const abandoned: UserEvent = { type: 'UserRegistrationAbandoned', data: { userId: alice } };

describe('creating a user', () => {
  const create = { type: 'CreateUser' as const, data: { ...created.data, userId: alice } };
  it('records UserCreated on a new stream', () => spec.given([]).when(create).then([created]));
  it('refuses a stream that already holds a user', () =>
    spec.given([created]).when(create).thenFails('conflict'));
  it('refuses a stream whose registration was abandoned', () =>
    spec.given([abandoned]).when(create).thenFails('conflict'));
});

describe('updating a profile', () => {
  const update = (data: { displayName?: string; bio?: string }, actorId = alice) => ({
    type: 'UpdateProfile' as const,
    data: { userId: alice, actorId, ...data },
  });
  it('records only the fields that change', () =>
    spec
      .given([created])
      .when(update({ displayName: 'Alice', bio: 'new bio' }))
      .then([{ type: 'UserProfileUpdated', data: { userId: alice, bio: 'new bio' } }]));
  it('records nothing when nothing changes', () =>
    spec
      .given([created])
      .when(update({ displayName: 'Alice' }))
      .thenNothing());
  it('sees earlier updates', () =>
    spec
      .given([created, { type: 'UserProfileUpdated', data: { userId: alice, bio: 'x' } }])
      .when(update({ bio: 'x' }))
      .thenNothing());
  it('allows an empty display name', () =>
    spec
      .given([created])
      .when(update({ displayName: '' }))
      .then([{ type: 'UserProfileUpdated', data: { userId: alice, displayName: '' } }]));
  it("refuses someone else's profile", () =>
    spec
      .given([created])
      .when(update({ bio: 'x' }, bob))
      .thenFails('forbidden'));
  it('refuses an unknown user', () =>
    spec
      .given([])
      .when(update({ bio: 'x' }))
      .thenFails('not-found'));
  it('refuses a deleted user', () =>
    spec
      .given([created, deleted])
      .when(update({ bio: 'x' }))
      .thenFails('not-found'));
  it('refuses an abandoned registration', () =>
    spec
      .given([abandoned])
      .when(update({ bio: 'x' }))
      .thenFails('not-found'));
});

describe('deleting a user', () => {
  const remove = (actorId = alice) => ({
    type: 'DeleteUser' as const,
    data: { userId: alice, actorId },
  });
  it('records UserDeleted', () => spec.given([created]).when(remove()).then([deleted]));
  it("refuses someone else's account", () =>
    spec.given([created]).when(remove(bob)).thenFails('forbidden'));
  it('refuses a user deleted already', () =>
    spec.given([created, deleted]).when(remove()).thenFails('not-found'));
  it('refuses an unknown user', () => spec.given([]).when(remove()).thenFails('not-found'));
});

describe('abandoning a registration', () => {
  const abandon = { type: 'AbandonRegistration' as const, data: { userId: alice } };
  it('marks a stream that never got its user', () =>
    spec.given([]).when(abandon).then([abandoned]));
  it('never touches a created user', () => spec.given([created]).when(abandon).thenNothing());
  it('is done once', () => spec.given([abandoned]).when(abandon).thenNothing());
});
