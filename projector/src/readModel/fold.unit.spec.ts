import { describe, expect, it } from 'vitest';
import { asDecoded, LogBuilder } from '../testing/eventFactory.ts';
import { foldReadModel, pairKey, referencesOf, type TouchedState } from './fold.ts';

const empty = (): TouchedState => ({ users: new Set(), edges: new Map(), tweets: new Map() });

describe('read-model fold', () => {
  it('UserCreated inserts a user; a repeat changes nothing', () => {
    const log = new LogBuilder();
    const a = log.userCreated('Alice');
    const changes = foldReadModel(asDecoded(log.take()), empty());
    expect(changes.insertUsers).toMatchObject([{ id: a, username: 'Alice', displayName: 'Alice' }]);
    const again = new LogBuilder();
    again.userCreated('Alice');
    const state = empty();
    const events = asDecoded(again.take());
    state.users.add(events[0]!.type === 'UserCreated' ? events[0]!.data.userId : '');
    expect(foldReadModel(events, state).insertUsers).toEqual([]);
  });

  it('UserProfileUpdated folds into a new row or becomes an update; ignored for unknown users', () => {
    const log = new LogBuilder();
    const a = log.userCreated('a');
    log.profileUpdated(a, { displayName: 'A' });
    log.profileUpdated('0190e4a2-0000-7000-8000-000000000001', { bio: 'x' });
    const c1 = foldReadModel(asDecoded(log.take()), empty());
    expect(c1.insertUsers[0]!.displayName).toBe('A');
    expect(c1.updateProfiles).toEqual([]);
    log.profileUpdated(a, { bio: 'hi' });
    const state = empty();
    state.users.add(a);
    expect(foldReadModel(asDecoded(log.take()), state).updateProfiles).toEqual([
      { id: a, displayName: null, bio: 'hi' },
    ]);
  });

  it('Followed adds an edge and counters once; self, repeated and dangling follows change nothing', () => {
    const log = new LogBuilder();
    const a = log.userCreated();
    const b = log.userCreated();
    log.followed(a, b);
    log.followed(a, b);
    log.followed(a, a);
    log.followed(a, '0190e4a2-0000-7000-8000-000000000002');
    const c = foldReadModel(asDecoded(log.take()), empty());
    expect(c.upsertEdges).toMatchObject([{ followerId: a, followeeId: b }]);
    expect(c.counters).toEqual([
      { id: a, followers: 0, following: 1, tweets: 0 },
      { id: b, followers: 1, following: 0, tweets: 0 },
    ]);
  });

  it('Unfollowed deletes a stored edge and corrects counters; of a missing edge changes nothing', () => {
    const log = new LogBuilder();
    const [a, b] = ['0190e4a2-0000-7000-8000-00000000000a', '0190e4a2-0000-7000-8000-00000000000b'];
    log.unfollowed(a, b);
    log.unfollowed(b, a);
    const state = empty();
    state.users.add(a).add(b);
    state.edges.set(pairKey(a, b), '2026-01-01 00:00:00+00');
    const c = foldReadModel(asDecoded(log.take()), state);
    expect(c.deleteEdges).toEqual([{ followerId: a, followeeId: b }]);
    expect(c.counters).toHaveLength(2);
  });

  it('TweetPosted inserts once for a live author; TweetDeleted removes a stored tweet', () => {
    const log = new LogBuilder();
    const a = log.userCreated();
    const t = log.tweetPosted(a, 'hi');
    const gone = log.tweetPosted('0190e4a2-0000-7000-8000-000000000003');
    const c = foldReadModel(asDecoded(log.take()), empty());
    expect(c.insertTweets).toMatchObject([{ id: t, authorId: a, text: 'hi' }]);
    expect(c.insertTweets.map((x) => x.id)).not.toContain(gone);
    log.tweetDeleted(t, a);
    log.tweetDeleted('0190e4a2-0000-7000-8000-000000000004', a);
    const state = empty();
    state.users.add(a);
    state.tweets.set(t, a);
    const d = foldReadModel(asDecoded(log.take()), state);
    expect(d.deleteTweets).toEqual([t]);
    expect(d.counters).toEqual([{ id: a, followers: 0, following: 0, tweets: -1 }]);
  });

  it('a tweet posted and deleted in one batch leaves nothing', () => {
    const log = new LogBuilder();
    const a = log.userCreated();
    const t = log.tweetPosted(a);
    log.tweetDeleted(t, a);
    const c = foldReadModel(asDecoded(log.take()), empty());
    expect(c.insertTweets).toEqual([]);
    expect(c.counters).toEqual([]);
  });

  it('UserDeleted schedules the cascade and makes later events about the user no-ops', () => {
    const log = new LogBuilder();
    const a = log.userCreated();
    const b = log.userCreated();
    log.userDeleted(a);
    log.followed(b, a);
    log.tweetPosted(a);
    log.userDeleted(a);
    log.userDeleted('0190e4a2-0000-7000-8000-000000000005');
    const c = foldReadModel(asDecoded(log.take()), empty());
    expect(c.deleteUsers).toEqual([a]);
    expect(c.upsertEdges).toEqual([]);
    expect(c.insertTweets).toEqual([]);
  });

  it('names what the batch touches', () => {
    const log = new LogBuilder();
    const a = log.userCreated();
    const b = log.userCreated();
    log.followed(a, b);
    const t = log.tweetPosted(a);
    const refs = referencesOf(asDecoded(log.take()));
    expect(new Set(refs.userIds)).toEqual(new Set([a, b]));
    expect(refs.pairs).toEqual([[a, b]]);
    expect(refs.tweetIds).toEqual([t]);
  });
});
