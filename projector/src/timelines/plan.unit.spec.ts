import { describe, expect, it } from 'vitest';
import {
  encodeTimelineMember,
  timelineKeys,
  timelineScore,
  type DecodedEvent,
} from '@tweeter/shared';
import { asDecoded, LogBuilder } from '../testing/eventFactory.ts';
import { AuthorLists } from './authorLists.ts';
import { MemoryFollowGraph } from './followGraph.ts';
import { listsNeededBy, neededBy, TimelinePlanner } from './plan.ts';
import { SharedEffects, type HomeOp, type StepPlan } from './stepPlan.ts';

const keys = timelineKeys('v1');

/** Plans a log from an empty copy into one step (every read answered "nothing there"). */
const plan = (log: LogBuilder, graph = new MemoryFollowGraph(), threshold = 2): StepPlan => {
  const events: DecodedEvent[] = asDecoded(log.take());
  for (const u of neededBy(events).users) if (!graph.users.has(u)) graph.users.set(u, false);
  const authors = new AuthorLists();
  const lists = listsNeededBy(events, graph, 800);
  const boundaries = new Map([...lists.boundaries].map((h) => [h, null]));
  for (const author of lists.authors(boundaries).keys()) authors.load(author, []);
  const planner = new TimelinePlanner(
    { graph, authors, boundaries, keys },
    { fanoutMaxFollowers: threshold, cap: 800 },
  );
  for (const e of events) planner.plan(e);
  return planner.step;
};

const hex = (id: string) => encodeTimelineMember(id).toString('hex');
const kinds = (ops: HomeOp[] | undefined) =>
  (ops ?? []).map((o) =>
    o.kind === 'add' ? `${o.merge ? 'merge' : 'add'}:${o.entries.length}` : o.kind,
  );
const ids = (op: HomeOp | undefined) =>
  op && op.kind === 'add' ? op.entries.map((e) => e.member.toString('hex')) : [];

describe('timelines planner', () => {
  it('UserCreated and UserProfileUpdated write the user hash; unknown users are ignored', () => {
    const log = new LogBuilder();
    const a = log.userCreated('ann');
    log.profileUpdated(a, { displayName: 'Ann' });
    log.profileUpdated(a, { bio: 'no display name change' });
    log.profileUpdated('0190e4a2-0000-7000-8000-000000000001', { displayName: 'x' });
    const step = plan(log);
    expect([...step.effects.hashes]).toEqual([
      [
        keys.user(a),
        new Map([
          ['u', 'ann'],
          ['d', 'Ann'],
        ]),
      ],
    ]);
    expect(step.homes.size).toBe(0);
  });

  it('TweetPosted stores the tweet and fans out to the author and followers, grouped per home', () => {
    const log = new LogBuilder();
    const a = log.userCreated();
    const b = log.userCreated();
    log.followed(b, a);
    const t1 = log.tweetPosted(a);
    const t2 = log.tweetPosted(a);
    const step = plan(log);
    expect(kinds(step.homes.get(a))).toEqual(['add:2']);
    expect(ids(step.homes.get(b)?.[0])).toEqual([hex(t1), hex(t2)]);
    expect([...step.bodies.keys()]).toEqual([t1, t2]);
    expect([...(step.effects.zsets.get(keys.author(a))?.keys() ?? [])]).toEqual([hex(t1), hex(t2)]);
    expect(step.effects.sets.get(keys.followers(a))).toEqual(new Map([[b, true]]));
  });

  it('an operation on a home closes its add group, so order is kept; each carries its position', () => {
    const log = new LogBuilder();
    const a = log.userCreated();
    const t = log.tweetPosted(a);
    log.tweetDeleted(t, a);
    log.tweetPosted(a);
    const step = plan(log);
    const ops = step.homes.get(a)!;
    expect(kinds(ops)).toEqual(['add:1', 'remove', 'add:1']);
    const positions = ops.map((o) => o.position);
    expect([...positions].sort()).toEqual(positions);
    expect(new Set(positions).size).toBe(3);
    // Posted then deleted in one step: the net effect on the author list is a removal.
    expect(step.effects.zsets.get(keys.author(a))?.get(hex(t))).toBeNull();
    expect(step.effects.deleted.has(keys.tweet(t))).toBe(true);
  });

  it('a follow merges the followee’s list as of the follow: earlier posts, not deleted ones', () => {
    const log = new LogBuilder();
    const a = log.userCreated();
    const b = log.userCreated();
    const kept = log.tweetPosted(a);
    const gone = log.tweetPosted(a);
    log.tweetDeleted(gone, a);
    log.followed(b, a);
    const later = log.tweetPosted(a);
    const step = plan(log);
    expect(kinds(step.homes.get(b))).toEqual(['merge:1', 'add:1']);
    expect(ids(step.homes.get(b)![0])).toEqual([hex(kept)]);
    expect(ids(step.homes.get(b)![1])).toEqual([hex(later)]);
  });

  it('Unfollowed removes the followee’s entries; repeats and unknown edges change nothing', () => {
    const log = new LogBuilder();
    const a = log.userCreated();
    const b = log.userCreated();
    log.followed(b, a);
    const t = log.tweetPosted(a);
    log.followed(b, a);
    log.unfollowed(b, a);
    log.unfollowed(b, a);
    const step = plan(log);
    const ops = step.homes.get(b)!;
    expect(kinds(ops)).toEqual(['add:1', 'remove']);
    expect(ops[1]!.kind === 'remove' && ops[1]!.members.map((m) => m.toString('hex'))).toEqual([
      hex(t),
    ]);
    expect(step.effects.sets.get(keys.followers(a))).toEqual(new Map([[b, false]]));
  });

  it('an author above the threshold becomes a celebrity for good and is no longer fanned out', () => {
    const log = new LogBuilder();
    const c = log.userCreated();
    const fans = [log.userCreated(), log.userCreated(), log.userCreated()];
    for (const f of fans) log.followed(f, c);
    log.unfollowed(fans[0]!, c);
    log.tweetPosted(c);
    const step = plan(log);
    expect(step.effects.sets.get(keys.celebs)).toEqual(new Map([[c, true]]));
    expect(kinds(step.homes.get(c))).toEqual(['add:1']);
    for (const f of fans.slice(1)) expect(step.homes.get(f)).toBeUndefined();
  });

  it('UserDeleted unmerges the user from followers, drops the home and deletes the keys', () => {
    const log = new LogBuilder();
    const a = log.userCreated();
    const b = log.userCreated();
    const c = log.userCreated();
    log.followed(b, a);
    log.followed(a, c);
    const t = log.tweetPosted(a);
    log.userDeleted(a);
    log.tweetPosted(a);
    log.followed(c, a);
    log.userDeleted(a);
    const graph = new MemoryFollowGraph();
    const step = plan(log, graph);
    expect(kinds(step.homes.get(a))).toEqual(['add:1', 'drop']);
    expect(kinds(step.homes.get(b))).toEqual(['add:1', 'remove']);
    for (const key of [keys.author(a), keys.followers(a), keys.following(a), keys.tweet(t)])
      expect(step.effects.deleted.has(key)).toBe(true);
    expect(step.effects.hashes.get(keys.user(a))).toEqual(
      new Map([
        ['u', null],
        ['d', null],
      ]),
    );
    expect(step.effects.sets.get(keys.followers(c))).toEqual(new Map([[a, false]]));
    expect(graph.followers(c).has(a)).toBe(false);
  });

  it('shared effects keep the last write per member and survive their write-ahead record', () => {
    const e = new SharedEffects();
    e.sadd('s', 'x');
    e.srem('s', 'x');
    e.sadd('s', 'y');
    e.zadd('z', 5, Buffer.from('00'.repeat(16), 'hex'));
    e.hset('h', 'd', 'D');
    e.del('gone');
    const back = SharedEffects.decode(e.encode());
    expect(back.sets.get('s')).toEqual(
      new Map([
        ['x', false],
        ['y', true],
      ]),
    );
    expect(back.zsets).toEqual(e.zsets);
    expect(back.hashes).toEqual(e.hashes);
    expect([...back.deleted]).toEqual(['gone']);
  });

  it('scores are createdAt in epoch ms', () => {
    expect(timelineScore('2026-01-01T00:00:00.123Z')).toBe(Date.UTC(2026, 0, 1, 0, 0, 0, 123));
  });
});
