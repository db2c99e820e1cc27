import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { timelineKeys, type NewEvent } from '@tweeter/shared';
import { connectRedis, decodeHomeMember, homeLayout } from '@tweeter/shared';
import { testRedisServers } from '@tweeter/shared/testing';
import { ReadModelProjection } from './readModel/readModelProjection.ts';
import { replayToHead } from './runtime/replay.ts';
import { appendAll, LogBuilder, waitUntilVisible } from './testing/eventFactory.ts';
import { useProjectorTestEnv } from './testing/projectorTestEnv.ts';
import { ReferenceModel } from './testing/referenceModel.ts';
import type { TimelinesProjection } from './timelines/timelinesProjection.ts';

const threshold = 3;
const fixture = useProjectorTestEnv();
let readModel: ReadModelProjection;
let timelines: TimelinesProjection;
const redis = connectRedis(testRedisServers(), fixture.redisPrefix, { lazyConnect: true });
const keys = timelineKeys('v1');
const ref = new ReferenceModel(threshold);
const log = new LogBuilder();

/** Appends what the builder holds, brings both projections up to date, compares with the reference. */
async function project(): Promise<void> {
  const { store } = fixture;
  const events: NewEvent[] = log.take();
  for (const e of events) ref.apply(e);
  await waitUntilVisible(store, await appendAll(store, events, 200));
  await replayToHead(readModel, store, { batchSize: 37 });
  await replayToHead(timelines, store, { batchSize: 53 });
  expect(await fixture.differencesFrom(ref)).toEqual([]);
}

/** A home's tweet ids (hex), newest first. */
const home = async (userId: string) =>
  (await redis.zrangeBuffer(keys.home(userId), 0, -1)).map((b) =>
    decodeHomeMember(b).replace(/-/g, ''),
  );
const hex = (id: string) => id.replace(/-/g, '');

beforeAll(() => {
  readModel = new ReadModelProjection(fixture.pool, 'read_model');
  timelines = fixture.timelines('v1', threshold);
});

afterAll(async () => {
  await timelines.reset();
  await timelines.close();
  redis.disconnect();
});

describe('read-model and timelines against the real servers', () => {
  const u: string[] = [];

  it('merges the followee’s earlier tweets on follow', async () => {
    for (let i = 0; i < 6; i++) u.push(log.userCreated());
    const a = u[0]!;
    const b = u[1]!;
    const tweets = [log.tweetPosted(a), log.tweetPosted(a), log.tweetPosted(b)];
    log.followed(b, a);
    await project();
    expect(await home(b)).toEqual([tweets[2]!, tweets[1]!, tweets[0]!].map(hex));
  });

  it('fans out new tweets and removes the followee’s tweets on unfollow', async () => {
    const [a, b, c] = [u[0]!, u[1]!, u[2]!];
    log.followed(c, a);
    const t = log.tweetPosted(a);
    await project();
    expect(await home(c)).toContain(hex(t));
    log.unfollowed(b, a);
    await project();
    expect((await home(b)).length).toBe(1); // only b's own tweet
  });

  it('removes a deleted tweet everywhere', async () => {
    const [a, c] = [u[0]!, u[2]!];
    const t = log.tweetPosted(a);
    log.tweetDeleted(t, a);
    const t2 = log.tweetPosted(a);
    await project();
    log.tweetDeleted(t2, a);
    await project();
    expect(await home(c)).not.toContain(hex(t2));
    expect(await redis.exists(keys.tweet(t2))).toBe(0);
  });

  it('removes a deleted user’s tweets, edges in both directions and keys, and corrects counters', async () => {
    const [a, b, c, d] = [u[0]!, u[1]!, u[2]!, u[3]!];
    log.followed(a, d);
    log.followed(d, a);
    log.followed(b, a);
    log.tweetPosted(d);
    log.userDeleted(a);
    await project();
    expect([await redis.exists(keys.home(a)), await redis.exists(keys.author(a))]).toEqual([0, 0]);
    expect(await redis.hexists(keys.user(a), 'u')).toBe(0);
    expect((await home(c)).length).toBe(0);
    const { rows } = await fixture.pool.query<{ followers_count: number; following_count: number }>(
      `SELECT followers_count, following_count FROM read_model.users WHERE id = $1`,
      [d],
    );
    expect(rows[0]).toEqual({ followers_count: 0, following_count: 0 });
  });

  it('is robust to odd orders and repeats', async () => {
    const [a, b, d] = [u[0]!, u[1]!, u[3]!];
    log.tweetPosted(a); // deleted author
    log.followed(b, a); // deleted followee
    log.followed(a, b); // deleted follower
    log.userDeleted(a); // again
    log.userDeleted('0190e4a2-0000-7000-8000-000000000000'); // unknown
    log.followed(b, d);
    log.followed(b, d); // repeated
    log.unfollowed(d, b); // missing edge
    log.followed(b, b); // self
    log.profileUpdated(b, { displayName: 'Bee' });
    log.profileUpdated(a, { displayName: 'Gone' });
    await project();
  });

  it('stops fanning out to the followers of an author above the threshold', async () => {
    const celeb = log.userCreated();
    const fans = [log.userCreated(), log.userCreated(), log.userCreated(), log.userCreated()];
    const before = log.tweetPosted(celeb);
    for (const f of fans) log.followed(f, celeb);
    const after = log.tweetPosted(celeb);
    await project();
    expect(await redis.sismember(keys.celebs, celeb)).toBe(1);
    expect(await home(fans[0]!)).toEqual([hex(before)]);
    expect(await home(fans[3]!)).toEqual([]); // followed after the threshold: merged at read time
    expect((await redis.zrange(keys.author(celeb), 0, -1)).length).toBe(2);
    expect(await home(celeb)).toEqual([hex(after), hex(before)]);
  });

  it('keeps the prefix invariant when many tweets share a millisecond (ties broken by id)', async () => {
    const reader = log.userCreated();
    const authors = [log.userCreated(), log.userCreated()];
    for (const a of authors) log.followed(reader, a);
    // 900 tweets over 30 milliseconds: the trim cuts inside a millisecond, by id.
    const posted: string[] = [];
    for (let i = 0; i < 900; i++) {
      if (i % 30 !== 0) log.now -= 1;
      posted.push(log.tweetPosted(authors[i % 2]!));
    }
    await project();
    expect((await home(reader)).length).toBe(800);
    for (const t of posted.filter((_, i) => i % 7 === 0))
      log.tweetDeleted(t, authors[posted.indexOf(t) % 2]!);
    await project();
    log.unfollowed(reader, authors[0]!);
    await project();
    log.followed(reader, authors[0]!);
    await project();
  });

  it('rebuilds a copy whose homes an earlier version wrote (no layout in meta)', async () => {
    await project();
    expect(await redis.hget(keys.meta, 'layout')).toBe(homeLayout);
    await redis.hdel(keys.meta, 'layout');
    await timelines.setup();
    expect(await timelines.checkpoint()).toBeNull();
    await project(); // from the start of the log, equal to the reference again
    expect(await redis.hget(keys.meta, 'layout')).toBe(homeLayout);
  });

  it('trims at 800 keeping the prefix invariant through follows, deletions and unfollows', async () => {
    const reader = log.userCreated();
    const x = log.userCreated();
    const y = log.userCreated();
    const z = log.userCreated();
    log.followed(reader, x);
    log.followed(reader, y);
    const zs: string[] = [];
    const ys: string[] = [];
    for (let i = 0; i < 500; i++) {
      log.tweetPosted(x);
      ys.push(log.tweetPosted(y));
      if (i % 2 === 0) zs.push(log.tweetPosted(z));
    }
    await project();
    expect((await home(reader)).length).toBe(800);
    const hash = await redis.hgetall(keys.user(reader));
    expect(hash.bs).toBeDefined();
    log.followed(reader, z); // z's tweets interleave: only those above the boundary are merged
    await project();
    for (const t of ys.slice(-300)) log.tweetDeleted(t, y);
    await project();
    expect((await home(reader)).length).toBeLessThan(800);
    log.unfollowed(reader, x);
    await project();
    for (let i = 0; i < 50; i++) log.tweetPosted(z);
    log.followed(reader, x);
    await project();
  });
});
