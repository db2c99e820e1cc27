import {
  decodeTimelineBoundary,
  decodeTimelineMember,
  type Redis,
  type TimelineKeys,
} from '@tweeter/shared';
import type { ChainableCommander } from 'ioredis';
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
 * one pipeline (copy liveness, U's boundary, the home range, the celebrity set), plus one when
 * celebrities exist (which of them U follows and their lists, in one go while they are few).
 */
export async function readHead(
  redis: Redis,
  keys: TimelineKeys,
  userId: string,
  cursor: Entry | null,
  n: number,
  /** The request's X-Min-Position: a copy that has not reached it is not read. */
  minPosition: string | null,
): Promise<HeadRead> {
  const first = redis.pipeline();
  first.hmget(keys.meta, 'live', 'checkpoint');
  first.hgetallBuffer(keys.user(userId));
  first.smembers(keys.celebs);
  const homeRanges = queueRanges(first, keys.home(userId), cursor, null, n);
  const replies = await execute(first);
  const [live, checkpoint] = replies[0] as [string | null, string | null];
  if (live !== '1') return { kind: 'fallback', reason: 'not-live' };
  // The consistency gate saw the copy pass the position or not live at all; in between, a
  // rebuild may have turned live at a head that did not include the position yet. The read model
  // has passed it (the gate waited for it), so it answers.
  if (minPosition !== null && (checkpoint === null || checkpoint < minPosition))
    return { kind: 'fallback', reason: 'behind' };
  const userHash = replies[1] as Record<string, Buffer>;
  // The hash exists exactly while the user exists in this copy; absent: lost or not projected yet.
  if (!userHash.u) return { kind: 'fallback', reason: 'user-missing' };
  const boundary = decodeTimelineBoundary(userHash);
  const lists = [entriesOf(replies.slice(3, 3 + homeRanges) as Buffer[][])];

  const celebrities = (replies[2] as string[]).filter((c) => c !== userId);
  if (celebrities.length > 0)
    lists.push(...(await celebrityLists(redis, keys, userId, celebrities, cursor, boundary, n)));
  return { kind: 'head', entries: mergeHead(lists, { cursor, boundary, n }), boundary };
}

/** The followed celebrities' author lists, each restricted to the head's range. */
async function celebrityLists(
  redis: Redis,
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
  const p = redis.pipeline();
  if (followed === celebrities) p.smismember(keys.following(userId), ...celebrities);
  const counts = followed.map((c) => queueRanges(p, keys.author(c), cursor, boundary, n));
  const replies = await execute(p);
  let at = 0;
  let flags: number[] | null = null;
  if (followed === celebrities) flags = replies[at++] as number[];
  const lists: Entry[][] = [];
  followed.forEach((_, i) => {
    const count = counts[i]!;
    const ranges = replies.slice(at, at + count) as Buffer[][];
    at += count;
    if (flags === null || flags[i] === 1) lists.push(entriesOf(ranges));
  });
  return lists;
}

/**
 * Queues the ZRANGEs that yield the first `n` entries of a sorted set strictly below `cursor` and
 * at or above `floor`; returns how many. Scores are whole ms; ties are broken by member, which
 * BYSCORE cannot express, so the cursor's own millisecond is read whole and filtered in mergeHead.
 */
function queueRanges(
  p: ChainableCommander,
  key: string,
  cursor: Entry | null,
  floor: Entry | null,
  n: number,
): number {
  const min = floor === null ? '-inf' : String(floor.score);
  if (cursor === null) {
    p.zrangeBuffer(key, '+inf', min, 'BYSCORE', 'REV', 'LIMIT', 0, n, 'WITHSCORES');
    return 1;
  }
  p.zrangeBuffer(key, cursor.score, cursor.score, 'BYSCORE', 'REV', 'WITHSCORES');
  p.zrangeBuffer(key, `(${cursor.score}`, min, 'BYSCORE', 'REV', 'LIMIT', 0, n, 'WITHSCORES');
  return 2;
}

/** A pipeline's replies, throwing the first error. */
async function execute(p: ChainableCommander): Promise<unknown[]> {
  const results = (await p.exec()) ?? [];
  return results.map(([error, reply]) => {
    if (error) throw error;
    return reply;
  });
}

/** WITHSCORES replies (member, score, …) → entries, in reply order. */
function entriesOf(replies: readonly Buffer[][]): Entry[] {
  const entries: Entry[] = [];
  for (const reply of replies)
    for (let i = 0; i + 1 < reply.length; i += 2)
      entries.push({
        tweetId: decodeTimelineMember(reply[i]!),
        score: Number(reply[i + 1]!.toString()),
      });
  return entries;
}

/** Tweet bodies of head entries by id (one MGET); null for a body that is gone. */
export async function readBodies(
  redis: Redis,
  keys: TimelineKeys,
  tweetIds: readonly string[],
): Promise<(string | null)[]> {
  if (tweetIds.length === 0) return [];
  return redis.mget(...tweetIds.map((id) => keys.tweet(id)));
}
