import { describe, expect, it } from 'vitest';
import { timelineScore } from '@tweeter/shared';
import { asDecoded, LogBuilder } from '../testing/eventFactory.ts';
import { MemoryFollowGraph } from './followGraph.ts';
import { neededBy, planTimelines } from './plan.ts';

const plan = (log: LogBuilder, graph = new MemoryFollowGraph(), threshold = 2) => {
  const events = asDecoded(log.take());
  for (const u of neededBy(events).users) if (!graph.users.has(u)) graph.users.set(u, false);
  return planTimelines(events, graph, { fanoutMaxFollowers: threshold });
};

describe('timelines planner', () => {
  it('UserCreated and UserProfileUpdated write the user hash; unknown users are ignored', () => {
    const log = new LogBuilder();
    const a = log.userCreated('ann');
    log.profileUpdated(a, { displayName: 'Ann' });
    log.profileUpdated(a, { bio: 'no display name change' });
    log.profileUpdated('0190e4a2-0000-7000-8000-000000000001', { displayName: 'x' });
    expect(plan(log)).toEqual([
      { kind: 'putUser', userId: a, username: 'ann', displayName: 'ann' },
      { kind: 'updateUser', userId: a, displayName: 'Ann' },
    ]);
  });

  it('TweetPosted stores the tweet and fans out to the author and followers, grouped per home', () => {
    const log = new LogBuilder();
    const a = log.userCreated();
    const b = log.userCreated();
    log.followed(b, a);
    const t1 = log.tweetPosted(a);
    const t2 = log.tweetPosted(a);
    const ops = plan(log);
    const adds = ops.filter((o) => o.kind === 'addEntries');
    expect(adds).toHaveLength(2);
    expect(adds.find((o) => o.homeOf === b)?.entries.map((e) => e.tweetId)).toEqual([t1, t2]);
    expect(ops.filter((o) => o.kind === 'putTweet')).toHaveLength(2);
    expect(ops.find((o) => o.kind === 'follow')).toEqual({
      kind: 'follow',
      followerId: b,
      followeeId: a,
      merge: true,
    });
  });

  it('an operation on a home closes its add group, so order is kept', () => {
    const log = new LogBuilder();
    const a = log.userCreated();
    const t = log.tweetPosted(a);
    log.tweetDeleted(t, a);
    const t2 = log.tweetPosted(a);
    const kinds = plan(log).map((o) =>
      o.kind === 'addEntries' ? `add:${o.entries.length}` : o.kind,
    );
    expect(kinds).toEqual(['putUser', 'putTweet', 'add:1', 'removeTweet', 'putTweet', 'add:1']);
    void t2;
  });

  it('Unfollowed removes the followee’s entries; repeats and unknown edges change nothing', () => {
    const log = new LogBuilder();
    const a = log.userCreated();
    const b = log.userCreated();
    log.followed(b, a);
    log.followed(b, a);
    log.unfollowed(b, a);
    log.unfollowed(b, a);
    const ops = plan(log).filter((o) => o.kind === 'follow' || o.kind === 'unfollow');
    expect(ops.map((o) => o.kind)).toEqual(['follow', 'unfollow']);
  });

  it('an author above the threshold becomes a celebrity for good and is no longer fanned out', () => {
    const log = new LogBuilder();
    const c = log.userCreated();
    const fans = [log.userCreated(), log.userCreated(), log.userCreated()];
    for (const f of fans) log.followed(f, c);
    log.unfollowed(fans[0]!, c);
    const t = log.tweetPosted(c);
    const ops = plan(log);
    expect(ops.filter((o) => o.kind === 'becomeCelebrity')).toEqual([
      { kind: 'becomeCelebrity', userId: c },
    ]);
    expect(
      ops.filter((o) => o.kind === 'follow').map((o) => o.kind === 'follow' && o.merge),
    ).toEqual([true, true, false]);
    const adds = ops.filter((o) => o.kind === 'addEntries');
    expect(adds).toEqual([
      {
        kind: 'addEntries',
        homeOf: c,
        entries: [{ score: expect.any(Number) as number, tweetId: t }],
      },
    ]);
  });

  it('TweetDeleted reaches the author and current followers; of a deleted author it is ignored', () => {
    const log = new LogBuilder();
    const a = log.userCreated();
    const b = log.userCreated();
    log.followed(b, a);
    const t = log.tweetPosted(a);
    log.tweetDeleted(t, a);
    const removal = plan(log).find((o) => o.kind === 'removeTweet');
    expect(removal).toEqual({ kind: 'removeTweet', authorId: a, tweetId: t, homesOf: [a, b] });
  });

  it('UserDeleted lists both sides of the graph and makes later events no-ops', () => {
    const log = new LogBuilder();
    const a = log.userCreated();
    const b = log.userCreated();
    const c = log.userCreated();
    log.followed(b, a);
    log.followed(a, c);
    log.userDeleted(a);
    log.tweetPosted(a);
    log.followed(c, a);
    log.userDeleted(a);
    const graph = new MemoryFollowGraph();
    const ops = plan(log, graph);
    expect(ops.filter((o) => o.kind === 'deleteUser')).toEqual([
      { kind: 'deleteUser', userId: a, followers: [b], following: [c] },
    ]);
    expect(ops.at(-1)?.kind).toBe('deleteUser');
    expect(graph.followers(c).has(a)).toBe(false);
  });

  it('scores are createdAt in epoch ms', () => {
    expect(timelineScore('2026-01-01T00:00:00.123Z')).toBe(Date.UTC(2026, 0, 1, 0, 0, 0, 123));
  });
});
