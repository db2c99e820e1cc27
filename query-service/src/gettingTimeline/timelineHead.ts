import {
  Cluster,
  decodeHomeMember,
  decodeTimelineBoundary,
  decodeTimelineMember,
  homeLayout,
  homeScore,
  timelinePartition,
  type RedisClient,
  type TimelineKeys,
} from '@tweeter/shared';
import { mergeHead, type Entry } from './timelineMerge.ts';

/** Why a timeline could not be read from Redis; the tables answer instead. */
export type FallbackReason = 'not-live' | 'behind' | 'user-missing';

export type HeadRead =
  | { kind: 'fallback'; reason: FallbackReason }
  /** The first `n` head entries below the cursor, and the boundary below which the tail lies. */
  | { kind: 'head'; entries: Entry[]; boundary: Entry | null };

/** Above this many celebrities, look up which ones the user follows before reading their lists. */
const speculativeCelebrities = 16;

/**
 * Reads the head of U's home timeline below `cursor` in as few round trips as the data allows:
 * one batch (copy liveness, U's boundary, the home range, the celebrity set), plus one when
 * celebrities exist (which of them U follows and their lists, in one go while they are few).
 *
 * Each command touches one key, and the commands of a batch are issued in one tick: the
 * connection's auto-pipelining sends them as one round trip to a single Redis, and as one round
 * trip per node, in parallel, to a Redis Cluster (whose pipelines may not span nodes).
 */
export async function readHead(
  redis: RedisClient,
  keys: TimelineKeys,
  userId: string,
  cursor: Entry | null,
  n: number,
  /** The request's X-Min-Position: a copy that has not reached it is not read. */
  minPosition: string | null,
): Promise<HeadRead> {
  const [meta, userHash, allCelebrities, homeRanges] = await Promise.all([
    redis.hmget(keys.meta, 'live', 'checkpoint', 'partitions', 'layout'),
    redis.hgetallBuffer(keys.user(userId)),
    redis.smembers(keys.celebs),
    homeBelow(redis, keys.home(userId), cursor, n),
  ]);
  const [live, checkpoint = null, partitions, layout] = meta;
  // A copy in another layout of homes is being rebuilt by the projector: not read meanwhile.
  if (live !== '1' || layout !== homeLayout) return { kind: 'fallback', reason: 'not-live' };
  // With fan-out partitions, the home itself has reached the position once its partition has.
  if (minPosition !== null && Number(partitions ?? 0) > 0) {
    const applied = await redis.hget(
      keys.partition(timelinePartition(userId, Number(partitions))),
      'checkpoint',
    );
    if (applied === null || applied < minPosition) return { kind: 'fallback', reason: 'behind' };
  }
  // The consistency gate saw the copy pass the position or not live at all; in between, a
  // rebuild may have turned live at a head that did not include the position yet. The read model
  // has passed it (the gate waited for it), so it answers.
  if (minPosition !== null && (checkpoint === null || checkpoint < minPosition))
    return { kind: 'fallback', reason: 'behind' };
  // The hash exists exactly while the user exists in this copy; absent: lost or not projected yet.
  if (!userHash.u) return { kind: 'fallback', reason: 'user-missing' };
  const boundary = decodeTimelineBoundary(userHash);
  const lists = [entriesOf(homeRanges, true)];

  const celebrities = allCelebrities.filter((c) => c !== userId);
  if (celebrities.length > 0)
    lists.push(...(await celebrityLists(redis, keys, userId, celebrities, cursor, boundary, n)));
  return { kind: 'head', entries: mergeHead(lists, { cursor, boundary, n }), boundary };
}

/** The followed celebrities' author lists, each restricted to the head's range. */
async function celebrityLists(
  redis: RedisClient,
  keys: TimelineKeys,
  userId: string,
  celebrities: string[],
  cursor: Entry | null,
  boundary: Entry | null,
  n: number,
): Promise<Entry[][]> {
  let followed = celebrities;
  if (celebrities.length > speculativeCelebrities) {
    const flags = await redis.smismember(keys.following(userId), ...celebrities);
    followed = celebrities.filter((_, i) => flags[i] === 1);
    if (followed.length === 0) return [];
  }
  const [flags, ranges] = await Promise.all([
    followed === celebrities ? redis.smismember(keys.following(userId), ...celebrities) : null,
    Promise.all(followed.map((c) => rangesBelow(redis, keys.author(c), cursor, boundary, n))),
  ]);
  return ranges.flatMap((range, i) => (flags === null || flags[i] === 1 ? [entriesOf(range)] : []));
}

/**
 * The ZRANGE replies that yield the first `n` entries of a sorted set strictly below `cursor` and
 * at or above `floor`. Scores are whole ms; ties are broken by member, which BYSCORE cannot
 * express, so the cursor's own millisecond is read whole and filtered in mergeHead.
 */
function rangesBelow(
  redis: RedisClient,
  key: string,
  cursor: Entry | null,
  floor: Entry | null,
  n: number,
): Promise<Buffer[][]> {
  const min = floor === null ? '-inf' : String(floor.score);
  if (cursor === null)
    return Promise.all([
      redis.zrangeBuffer(key, '+inf', min, 'BYSCORE', 'REV', 'LIMIT', 0, n, 'WITHSCORES'),
    ]);
  return Promise.all([
    redis.zrangeBuffer(key, cursor.score, cursor.score, 'BYSCORE', 'REV', 'WITHSCORES'),
    redis.zrangeBuffer(key, `(${cursor.score}`, min, 'BYSCORE', 'REV', 'LIMIT', 0, n, 'WITHSCORES'),
  ]);
}

/**
 * The home's replies for the first `n` entries strictly below `cursor`: the home is stored newest
 * first (negated scores, complemented members: timelineKeys.ts), so plain ascending ranges, the
 * cursor's own millisecond read whole as in `rangesBelow`. The home holds nothing below its
 * boundary, so it needs no floor.
 */
function homeBelow(
  redis: RedisClient,
  key: string,
  cursor: Entry | null,
  n: number,
): Promise<Buffer[][]> {
  if (cursor === null) return Promise.all([redis.zrangeBuffer(key, 0, n - 1, 'WITHSCORES')]);
  const at = homeScore(cursor.score);
  return Promise.all([
    redis.zrangeBuffer(key, at, at, 'BYSCORE', 'WITHSCORES'),
    redis.zrangeBuffer(key, `(${at}`, '+inf', 'BYSCORE', 'LIMIT', 0, n, 'WITHSCORES'),
  ]);
}

/**
 * WITHSCORES replies (member, score, …) → entries in the plain form, in reply order; `home`: the
 * replies of a home, stored newest first (complemented members, negated scores).
 */
function entriesOf(replies: readonly Buffer[][], home = false): Entry[] {
  const entries: Entry[] = [];
  for (const reply of replies)
    for (let i = 0; i + 1 < reply.length; i += 2) {
      const score = Number(reply[i + 1]!.toString());
      entries.push(
        home
          ? { tweetId: decodeHomeMember(reply[i]!), score: homeScore(score) }
          : { tweetId: decodeTimelineMember(reply[i]!), score },
      );
    }
  return entries;
}

/**
 * Tweet bodies of head entries by id; null for a body that is gone. One MGET on a single Redis;
 * on a cluster the bodies live in many slots, so one GET each, auto-pipelined per node.
 */
export async function readBodies(
  redis: RedisClient,
  keys: TimelineKeys,
  tweetIds: readonly string[],
): Promise<(string | null)[]> {
  if (tweetIds.length === 0) return [];
  const bodyKeys = tweetIds.map((id) => keys.tweet(id));
  if (redis instanceof Cluster) return Promise.all(bodyKeys.map((key) => redis.get(key)));
  return redis.mget(...bodyKeys);
}
