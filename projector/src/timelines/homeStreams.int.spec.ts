import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectRedis,
  streamEntryFields,
  streamIdOf,
  timelineKeys,
  type Position,
} from '@tweeter/shared';
import { testRedisServers } from '@tweeter/shared/testing';
import { replayToHead } from '../runtime/replay.ts';
import { appendAll, LogBuilder, waitUntilVisible } from '../testing/eventFactory.ts';
import { useProjectorTestEnv } from '../testing/projectorTestEnv.ts';
import type { TimelinesProjection } from './timelinesProjection.ts';

/**
 * The home streams as the home script writes them (single Redis, or the local cluster under
 * TEST_REDIS=cluster): an entry per tweet that arrives and per removal, under the event's position,
 * for watched homes only; a change to a home nobody watches deletes its stream.
 */
const fixture = useProjectorTestEnv();
let timelines: TimelinesProjection;
const redis = connectRedis(testRedisServers(), fixture.redisPrefix, { lazyConnect: true });
const keys = timelineKeys('v1');
const log = new LogBuilder();

async function project(): Promise<void> {
  const { store } = fixture;
  await waitUntilVisible(store, await appendAll(store, log.take(), 200));
  // Large batches: several posts to one home become one operation of the home script.
  await replayToHead(timelines, store, { batchSize: 500 });
}

/** Each event's position, by tweet id and type, from the log. */
async function positions(): Promise<Map<string, Position>> {
  const map = new Map<string, Position>();
  for (const e of await fixture.store.readAll({ after: null, maxCount: 10_000 })) {
    const data = e.data as { tweetId?: string };
    if (data.tweetId) map.set(`${e.type}:${data.tweetId}`, e.position);
  }
  return map;
}

/** A home's stream as [id, kind, tweet count]. */
async function streamOf(userId: string): Promise<[string, string, number][]> {
  const entries = (await redis.xrangeBuffer(keys.stream(userId), '-', '+')) as [Buffer, Buffer[]][];
  return entries.map(([id, fields]) => {
    const f = streamEntryFields(fields);
    return [id.toString(), f.get('k')!.toString(), f.get('m')!.length / 16];
  });
}

const watch = (userId: string, forMs: number) =>
  redis.hset(keys.user(userId), 'w', String(Date.now() + forMs));

beforeAll(async () => {
  await redis.connect();
  timelines = fixture.timelines('v1', 1000);
});

afterAll(async () => {
  await timelines.reset();
  await timelines.close();
  redis.disconnect();
});

describe('home streams', () => {
  it('stream each watched home’s arrivals and removals under their positions, and no other', async () => {
    const [author, watcher, away] = [log.userCreated(), log.userCreated(), log.userCreated()];
    log.followed(watcher, author);
    log.followed(away, author);
    await project();
    // Caught up: the copy is live and streams are written from now on.
    await watch(watcher, 60_000);
    await watch(away, 60_000);
    const first = log.tweetPosted(author);
    await project();
    expect((await streamOf(away)).map(([, kind]) => kind)).toEqual(['u']);
    // `away` stops watching; three posts and a deletion land in one batch.
    await watch(away, -1000);
    const posts = [log.tweetPosted(author), log.tweetPosted(author), log.tweetPosted(author)];
    log.tweetDeleted(posts[1]!, author);
    await project();
    const at = await positions();
    const id = (type: string, tweet: string) => streamIdOf(at.get(`${type}:${tweet}`)!);
    expect(await streamOf(watcher)).toEqual([
      [id('TweetPosted', first), 'u', 1],
      ...posts.map((t) => [id('TweetPosted', t), 'u', 1]),
      [id('TweetDeleted', posts[1]!), 'd', 1],
    ]);
    // The author's own home is not watched: no stream. `away` changed while nobody watched: its
    // stream is gone (a client resuming from it must resync), and so is its marker.
    expect(await redis.exists(keys.stream(author))).toBe(0);
    expect(await redis.exists(keys.stream(away))).toBe(0);
    expect(await redis.hget(keys.user(away), 'f')).toBeNull();
    expect(await redis.hget(keys.user(watcher), 'f')).toBe('1');
  });
});
