import { randomBytes, randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { Cluster, connectRedis, timelineKeys } from '@tweeter/shared';
import { testRedisServers } from '@tweeter/shared/testing';
import { useScriptedTestRedis } from '../testing/scriptedTestRedis.ts';
import { serverCalls, singleCall, writeEffects } from './effectWrites.ts';
import { SharedEffects } from './stepPlan.ts';
import { defineTimelineScripts, type ScriptedRedis } from './stepWriter.ts';

/**
 * The shared effects of a step as the effects script writes them (single Redis, or the local
 * cluster under TEST_REDIS=cluster): every key ends holding exactly its net effect, whatever it
 * held before, in as many calls as the keys need; sending them again changes nothing.
 */
// As the projection connects (connections.ts): auto-pipelined, the scripts defined on it.
const { redis, prefix } = useScriptedTestRedis();
const keys = timelineKeys('v1');

const [u1, u2, u3] = [randomUUID(), randomUUID(), randomUUID()];
const [gone1, gone2] = [randomUUID(), randomUUID()];
const member = (): Buffer => randomBytes(16);
const hex = (b: Buffer) => b.toString('hex');

// What every key holds before the effects are sent.
const oldAuthor1 = Array.from({ length: 10 }, (_, i) => ({ score: 1000 + i, member: member() }));
const oldFollowers1 = Array.from({ length: 10 }, (_, i) => `old-follower-${i}`);
const oldAuthor2 = Array.from({ length: 5 }, (_, i) => ({ score: 500 + i, member: member() }));
const oldHome1 = Array.from({ length: 3 }, (_, i) => ({ score: -1 - i, member: member() }));

// What the effects write.
const newAuthor1 = Array.from({ length: 1200 }, (_, i) => ({
  // Scores of every form a sorted set takes: integers, fractions, negatives, ties.
  score: i % 100 === 0 ? -i - 0.25 : 2000 + Math.floor(i / 3),
  member: member(),
}));
const newFollowers1 = Array.from({ length: 700 }, (_, i) => `new-follower-${i}`);
const newAuthor2 = [
  { score: 7000, member: member() },
  { score: 7001, member: member() },
];
const newHome3 = Array.from({ length: 1000 }, (_, i) => ({ score: -5000 - i, member: member() }));
const newAuthor3 = Array.from({ length: 3 }, (_, i) => ({ score: 9000 + i, member: member() }));

/** Every key the test touches: each is set up before a test, and read after it. */
const testKeys = [
  keys.author(u1),
  keys.followers(u1),
  keys.following(u1),
  keys.user(u1),
  keys.home(u1),
  keys.author(u2),
  keys.followers(u2),
  keys.following(u2),
  keys.user(u2),
  keys.author(u3),
  keys.followers(u3),
  keys.following(u3),
  keys.user(u3),
  keys.home(u3),
  keys.celebs,
  keys.tweet(gone1),
  keys.tweet(gone2),
];

/** Deletes every test key, then writes what they hold before the effects. */
async function seed(): Promise<void> {
  // One key per command: on a cluster, keys of different slots may not share one.
  await Promise.all(testKeys.map((key) => redis.del(key)));
  await Promise.all([
    redis.zadd(keys.author(u1), ...oldAuthor1.flatMap((e) => [e.score, e.member])),
    redis.sadd(keys.followers(u1), ...oldFollowers1),
    redis.sadd(keys.following(u1), 'old-followee-a', 'old-followee-b'),
    redis.hset(keys.user(u1), { u: 'old-name', d: 'Old Name', bs: '123', s: 'stamp-1' }),
    redis.zadd(keys.home(u1), ...oldHome1.flatMap((e) => [e.score, e.member])),
    redis.zadd(keys.author(u2), ...oldAuthor2.flatMap((e) => [e.score, e.member])),
    redis.sadd(keys.followers(u2), 'follower-of-2'),
    redis.hset(keys.user(u2), { u: 'two', d: 'Two', bs: '9', bm: 'x' }),
    redis.sadd(keys.following(u3), 'old-followee-of-3'),
    redis.sadd(keys.celebs, 'celeb-a', 'celeb-b'),
    redis.set(keys.tweet(gone1), '{"id":"gone"}'),
  ]);
}

/** The effects of one step on all those keys. */
function buildEffects(): SharedEffects {
  const e = new SharedEffects();
  // u1: four keys (one call on a cluster). A sorted set with more ZADD members than a command of
  // the script takes, a score changed, and removals of members it held.
  for (const x of newAuthor1) e.zadd(keys.author(u1), x.score, x.member);
  e.zadd(keys.author(u1), 4242, oldAuthor1[9]!.member);
  for (const x of oldAuthor1.slice(0, 3)) e.zrem(keys.author(u1), x.member);
  // A removal of a member it never held.
  e.zrem(keys.author(u1), member());
  for (const f of newFollowers1) e.sadd(keys.followers(u1), f);
  for (const f of oldFollowers1.slice(0, 5)) e.srem(keys.followers(u1), f);
  e.srem(keys.followers(u1), 'never-a-follower');
  e.hset(keys.user(u1), 'u', 'alice');
  e.hset(keys.user(u1), 'd', 'Alice A.');
  e.hset(keys.user(u1), 'w', '1700000000000');
  e.hdel(keys.user(u1), 'bs');
  e.hdel(keys.user(u1), 'never-a-field');
  // Deleted, then written again: it holds only the new writes.
  e.sadd(keys.following(u1), 'dropped-before-the-deletion');
  e.del(keys.following(u1));
  e.sadd(keys.following(u1), 'new-followee-a');
  e.sadd(keys.following(u1), 'new-followee-b');
  e.srem(keys.following(u1), 'old-followee-a');

  // u2: a sorted set and a hash deleted then written again, a set only deleted, a set deleted
  // that never existed.
  e.del(keys.author(u2));
  for (const x of newAuthor2) e.zadd(keys.author(u2), x.score, x.member);
  e.zrem(keys.author(u2), oldAuthor2[0]!.member);
  e.del(keys.user(u2));
  e.hset(keys.user(u2), 's', 'stamp-2');
  e.hdel(keys.user(u2), 'u');
  e.del(keys.followers(u2));
  e.del(keys.following(u2));

  // u3: five keys of one slot (two calls on a cluster), one of them holding 1000 new entries
  // (several bundles on one server).
  for (const x of newHome3) e.zadd(keys.home(u3), x.score, x.member);
  for (const x of newAuthor3) e.zadd(keys.author(u3), x.score, x.member);
  e.sadd(keys.followers(u3), u1);
  e.sadd(keys.following(u3), u2);
  e.srem(keys.following(u3), 'old-followee-of-3');
  e.hset(keys.user(u3), 'u', 'carol');
  e.hset(keys.user(u3), 'd', 'Carol');

  // Keys without a hash tag: the celebrity set, tweet bodies (one that exists, one that does not).
  e.sadd(keys.celebs, 'celeb-c');
  e.srem(keys.celebs, 'celeb-a');
  e.del(keys.tweet(gone1));
  e.del(keys.tweet(gone2));
  return e;
}

type Content =
  | { type: 'zset'; entries: [string, number][] }
  | { type: 'set'; members: string[] }
  | { type: 'hash'; fields: Record<string, string> }
  | { type: 'string'; value: string | null }
  | { type: 'none' };

/** A sorted set's entries as ZRANGE orders them: score, then member bytes. */
const zset = (entries: { score: number; member: Buffer }[]): Content => {
  const byMember = new Map(entries.map((e) => [hex(e.member), e.score]));
  const sorted = [...byMember].sort(([am, as], [bm, bs]) =>
    as !== bs ? as - bs : am < bm ? -1 : am > bm ? 1 : 0,
  );
  return { type: 'zset', entries: sorted };
};
const set = (members: string[]): Content => ({ type: 'set', members: [...members].sort() });
const hash = (fields: Record<string, string>): Content => ({ type: 'hash', fields });
const none: Content = { type: 'none' };

/** What every key holds once the effects are sent. */
function expectedState(): Record<string, Content> {
  return {
    [keys.author(u1)]: zset([
      ...oldAuthor1.slice(3, 9),
      { score: 4242, member: oldAuthor1[9]!.member },
      ...newAuthor1,
    ]),
    [keys.followers(u1)]: set([...oldFollowers1.slice(5), ...newFollowers1]),
    [keys.following(u1)]: set(['new-followee-a', 'new-followee-b']),
    [keys.user(u1)]: hash({ u: 'alice', d: 'Alice A.', w: '1700000000000', s: 'stamp-1' }),
    // Named by no effect: untouched.
    [keys.home(u1)]: zset(oldHome1),
    [keys.author(u2)]: zset(newAuthor2),
    [keys.followers(u2)]: none,
    [keys.following(u2)]: none,
    [keys.user(u2)]: hash({ s: 'stamp-2' }),
    [keys.author(u3)]: zset(newAuthor3),
    [keys.followers(u3)]: set([u1]),
    [keys.following(u3)]: set([u2]),
    [keys.user(u3)]: hash({ u: 'carol', d: 'Carol' }),
    [keys.home(u3)]: zset(newHome3),
    [keys.celebs]: set(['celeb-b', 'celeb-c']),
    [keys.tweet(gone1)]: none,
    [keys.tweet(gone2)]: none,
  };
}

/** What every test key holds now. */
async function snapshot(): Promise<Record<string, Content>> {
  const contents = await Promise.all(
    testKeys.map(async (key): Promise<Content> => {
      const type = await redis.type(key);
      switch (type) {
        case 'zset': {
          const reply = await redis.zrangeBuffer(key, 0, -1, 'WITHSCORES');
          const entries: [string, number][] = [];
          for (let i = 0; i + 1 < reply.length; i += 2)
            entries.push([hex(reply[i]!), Number(reply[i + 1]!.toString())]);
          return { type, entries };
        }
        case 'set':
          return { type, members: (await redis.smembers(key)).sort() };
        case 'hash':
          return { type, fields: await redis.hgetall(key) };
        case 'string':
          return { type, value: await redis.get(key) };
        case 'none':
          return { type };
        default:
          throw new Error(`unexpected type ${type} of ${key}`);
      }
    }),
  );
  return Object.fromEntries(testKeys.map((key, i) => [key, contents[i]!]));
}

/** Whether each key exists (EXISTS, one key per command). */
const existing = async (names: string[]) =>
  Promise.all(names.map(async (key) => (await redis.exists(key)) === 1));

beforeEach(seed);

describe('writeEffects', () => {
  it('leaves every key holding exactly its net effect', async () => {
    // The test runs on the kind of Redis it was asked to.
    expect(redis instanceof Cluster).toBe(testRedisServers().clusterNodes !== undefined);
    const before = await snapshot();
    expect(before[keys.following(u1)]).toEqual(set(['old-followee-a', 'old-followee-b']));
    expect(before[keys.tweet(gone1)]).toEqual({ type: 'string', value: '{"id":"gone"}' });

    await writeEffects(redis, buildEffects());

    const after = await snapshot();
    const expected = expectedState();
    for (const key of testKeys) expect(after[key], key).toEqual(expected[key]);
    // The sizes the chunks of 500 must all have landed for.
    expect(await redis.zcard(keys.author(u1))).toBe(6 + 1 + 1200);
    expect(await redis.scard(keys.followers(u1))).toBe(5 + 700);
    expect(await redis.zcard(keys.home(u3))).toBe(1000);
    expect(await redis.zscore(keys.author(u1), oldAuthor1[9]!.member)).toBe('4242');
    expect(await redis.zscore(keys.author(u1), newAuthor1[100]!.member)).toBe('-100.25');
    expect(
      await existing([
        keys.followers(u2),
        keys.following(u2),
        keys.tweet(gone1),
        keys.tweet(gone2),
        keys.following(u1),
        keys.author(u2),
      ]),
    ).toEqual([false, false, false, false, true, true]);
  });

  it('changes nothing when the same effects, or their write-ahead record, are sent again', async () => {
    const effects = buildEffects();
    await writeEffects(redis, effects);
    const once = await snapshot();
    expect(once).toEqual(expectedState());

    await writeEffects(redis, effects);
    expect(await snapshot()).toEqual(once);

    const recorded = SharedEffects.decode(effects.encode());
    expect(recorded.size).toBe(effects.size);
    await writeEffects(redis, recorded);
    expect(await snapshot()).toEqual(once);
  });

  it('writes from the write-ahead record alone what the effects write', async () => {
    // A crash after the record: recovery sends the decoded effects to keys as they were before.
    const recorded = SharedEffects.decode(buildEffects().encode());
    await writeEffects(redis, recorded);
    expect(await snapshot()).toEqual(expectedState());
  });

  it('sends nothing for empty effects, and resolves', async () => {
    const before = await snapshot();
    await expect(writeEffects(redis, new SharedEffects())).resolves.toBeUndefined();
    expect(await snapshot()).toEqual(before);

    // On a closed connection every command fails: empty effects still resolve, so they sent none.
    const closed = connectRedis(testRedisServers(), prefix, {
      lazyConnect: true,
      autoPipelining: true,
    });
    defineTimelineScripts(closed);
    await closed.connect();
    await closed.quit();
    const closedScripted = closed as ScriptedRedis;
    await expect(writeEffects(closedScripted, new SharedEffects())).resolves.toBeUndefined();
    const one = new SharedEffects();
    one.sadd(keys.celebs, 'celeb-z');
    await expect(writeEffects(closedScripted, one)).rejects.toThrow();
    expect(await redis.sismember(keys.celebs, 'celeb-z')).toBe(0);
    closed.disconnect();
  });
});

const oneServer = testRedisServers().clusterNodes === undefined;
if (!oneServer)
  console.log('effects: the one-server tail script test skipped: a Redis Cluster has no such step');

describe('tailScript (one server): a step’s shared effects and checkpoint in one script', () => {
  /** A live step's effects: a post's author list, a follow, a profile, a deleted body. */
  const small = () => {
    const e = new SharedEffects();
    e.zadd(keys.author(u1), 4242, newAuthor3[0]!.member);
    e.zrem(keys.author(u1), oldAuthor1[0]!.member);
    e.sadd(keys.followers(u1), u3);
    e.sadd(keys.following(u3), u1);
    e.hset(keys.user(u2), 'd', 'Two Again');
    e.del(keys.tweet(gone1));
    return e;
  };
  const tail = (from: string, to: string) => {
    const call = singleCall(serverCalls(small()))!;
    return redis.timelinesTail(
      1 + call.keys.length,
      keys.meta,
      ...call.keys,
      from,
      to,
      ...call.args,
    );
  };

  it.skipIf(!oneServer)(
    'writes what writeEffects writes and moves the checkpoint, only from the checkpoint expected',
    async () => {
      await redis.del(keys.meta);
      await redis.hset(keys.meta, { checkpoint: 'c', busy: 'e', wal: 'x', walTo: 'e' });
      const before = await snapshot();

      // The checkpoint moved (a reset, another writer): refused, nothing written.
      expect(await tail('elsewhere', 'e')).toEqual(['c']);
      expect(await snapshot()).toEqual(before);
      expect(await redis.hget(keys.meta, 'checkpoint')).toBe('c');

      expect(await tail('c', 'e')).toBe(1);
      const written = await snapshot();
      expect(await redis.hgetall(keys.meta)).toEqual({ checkpoint: 'e' });
      // The same keys as the effects sent by writeEffects onto the same state.
      await seed();
      await writeEffects(redis, small());
      expect(written).toEqual(await snapshot());
      expect(written).not.toEqual(before);
      // Now at e: sending it again from c is refused.
      expect(await tail('c', 'e')).toEqual(['e']);
    },
  );

  it('takes only effects that fit one call: a catch-up step’s go through the write-ahead record', () => {
    expect(singleCall(serverCalls(small()))?.keys).toHaveLength(5);
    expect(singleCall(serverCalls(buildEffects()))).toBeNull();
  });
});
