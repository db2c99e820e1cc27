import {
  decodeTweetBody,
  isDependencyFailure,
  type Logger,
  type RedisClient,
  type TweetBody,
} from '@tweeter/shared';
import type { LiveCopies } from '../core/activeCopies.ts';
import type { AuthorCache } from '../core/authorCache.ts';
import type { KeysetPosition } from '../core/cursor.ts';
import type { QueryMetrics } from '../core/metrics.ts';
import { tweetView, type Tweet } from '../core/views.ts';
import { copyOf, type ReadModelDb } from '../readModel/database.ts';
import {
  homeTimeline,
  tweetsById,
  type TweetWithAuthorRow,
} from '../readModel/tweets.repository.ts';
import { readBodies, readHead, type FallbackReason, type HeadRead } from './timelineHead.ts';
import { needsTail, pageWindow, tailStart, type Entry } from './timelineMerge.ts';

export interface TimelineDeps {
  redis: RedisClient;
  /** The server this request reads the read model from (see ReadModelSource). */
  db: ReadModelDb;
  authors: AuthorCache;
  metrics: QueryMetrics;
  logger: Logger;
}

export interface TimelinePage {
  data: Tweet[];
  /** Where the next page continues, or null on the last page. */
  next: KeysetPosition | null;
}

type Candidate = Entry & { row?: TweetWithAuthorRow };

const entryOf = (row: TweetWithAuthorRow): Candidate => ({
  score: row.created_at.getTime(),
  tweetId: row.id,
  row,
});
const toEntry = (p: KeysetPosition | null): Entry | null =>
  p === null ? null : { score: p.at, tweetId: p.id };

/**
 * One page of U's home timeline: the head from Redis (home key + followed celebrities), the tail
 * below the boundary from PostgreSQL, or everything from PostgreSQL when the Redis copy cannot
 * answer (not live: flushed or rebuilding, which the projector repairs by itself; or U's keys lost).
 */
export async function getTimeline(
  deps: TimelineDeps,
  copies: LiveCopies,
  userId: string,
  after: KeysetPosition | null,
  limit: number,
  /** X-Min-Position of the request (then no cache answers, and Redis only once it passed it). */
  minPosition: string | null,
): Promise<TimelinePage> {
  const fresh = minPosition !== null;
  const cursor = toEntry(after);
  const n = limit + 1;
  const head = await readHeadOrFallback(deps, copies, userId, cursor, n, minPosition);
  if (head.kind === 'fallback') {
    deps.metrics.timelineFallback.inc({ reason: head.reason });
    noteFallback(deps.logger, head.reason, userId);
    deps.metrics.timelineSource.inc({ source: 'postgres' });
    const rows = await homeTimeline(copyOf(deps.db, copies.readModel), userId, after, n);
    return finish(rows.map(entryOf), limit);
  }
  let candidates: Candidate[] = head.entries;
  if (needsTail(head.entries.length, n, head.boundary) && head.boundary !== null) {
    const start = tailStart(cursor, head.boundary);
    const rows = await homeTimeline(
      copyOf(deps.db, copies.readModel),
      userId,
      { at: start.score, id: start.tweetId },
      n - head.entries.length,
    );
    candidates = [...head.entries, ...rows.map(entryOf)];
    deps.metrics.timelineSource.inc({ source: 'redis+postgres' });
  } else {
    deps.metrics.timelineSource.inc({ source: 'redis' });
  }
  const { shown, next } = pageWindow(candidates, limit);
  const data = await resolve(deps, copies, shown, fresh);
  return { data, next: next && { at: next.score, id: next.tweetId } };
}

/** Redis being down is no reason to fail a read the tables can answer. */
async function readHeadOrFallback(
  deps: TimelineDeps,
  copies: LiveCopies,
  userId: string,
  cursor: Entry | null,
  n: number,
  minPosition: string | null,
): Promise<HeadRead | { kind: 'fallback'; reason: 'redis-unavailable' }> {
  // While the connection is down, ioredis would queue the commands and fail them only after its
  // retries (seconds): answer from the tables at once instead.
  if (deps.redis.status !== 'ready') return { kind: 'fallback', reason: 'redis-unavailable' };
  try {
    return await readHead(deps.redis, copies.timelines, userId, cursor, n, minPosition);
  } catch (error) {
    if (!isDependencyFailure(error)) throw error;
    return { kind: 'fallback', reason: 'redis-unavailable' };
  }
}

let lastWarning = 0;
/**
 * A lost user (keys gone while the copy is live) or an unreachable Redis is worth an operator's
 * attention, once in a while; a copy that is rebuilding is routine (the metric counts both).
 */
function noteFallback(
  logger: Logger,
  reason: FallbackReason | 'redis-unavailable',
  userId: string,
): void {
  if (reason === 'not-live' || reason === 'behind') return;
  const now = Date.now();
  if (now - lastWarning < 10_000) return;
  lastWarning = now;
  logger.warn(
    { reason, userId },
    reason === 'user-missing'
      ? 'home timeline keys missing in Redis; answering from PostgreSQL (repair: tweeter-admin rebuild timelines --zero-downtime)'
      : 'Redis unavailable; answering home timelines from PostgreSQL',
  );
}

function finish(candidates: Candidate[], limit: number): TimelinePage {
  const { shown, next } = pageWindow(candidates, limit);
  return {
    data: shown.flatMap((c) => (c.row ? [tweetView(c.row)] : [])),
    next: next && { at: next.score, id: next.tweetId },
  };
}

/** Tweets by id as the timeline shows them (those deleted since are left out), in that order. */
export function resolveTweets(
  deps: TimelineDeps,
  copies: LiveCopies,
  tweetIds: readonly string[],
): Promise<Tweet[]> {
  return resolve(
    deps,
    copies,
    tweetIds.map((tweetId) => ({ tweetId, score: 0 })),
    false,
  );
}

/**
 * Tweets for the shown entries: tail rows as they are; head entries from their Redis bodies
 * (PostgreSQL for a body that is gone) with their authors' names from the read model. An entry
 * whose tweet or author no longer exists was deleted a moment ago and is left out. Bodies keep
 * their `createdAt` string as stored (already RFC 3339 with ms): no Date round trip per tweet.
 */
async function resolve(
  deps: TimelineDeps,
  copies: LiveCopies,
  shown: Candidate[],
  fresh: boolean,
): Promise<Tweet[]> {
  const fromHead = shown.filter((c) => !c.row);
  const ids = fromHead.map((c) => c.tweetId);
  // A body read that fails is a miss: the read model has every tweet too.
  const bodies = await readBodies(deps.redis, copies.timelines, ids).catch((error: unknown) => {
    if (!isDependencyFailure(error)) throw error;
    return ids.map(() => null);
  });
  const found: TweetBody[] = [];
  const gone: string[] = [];
  fromHead.forEach((c, i) => {
    const json = bodies[i];
    if (json == null) gone.push(c.tweetId);
    else found.push(decodeTweetBody(json));
  });
  const [authors, recovered] = await Promise.all([
    deps.authors.get(
      deps.db,
      copies.readModel,
      found.map((b) => b.authorId),
      fresh,
    ),
    gone.length > 0 ? tweetsById(copyOf(deps.db, copies.readModel), gone) : Promise.resolve([]),
  ]);
  const byId = new Map<string, Tweet>();
  for (const body of found) {
    const author = authors.get(body.authorId);
    if (author)
      byId.set(body.id, {
        id: body.id,
        authorId: body.authorId,
        text: body.text,
        createdAt: body.createdAt,
        author: { id: author.id, username: author.username, displayName: author.display_name },
      });
  }
  for (const row of recovered) byId.set(row.id, tweetView(row));
  return shown.flatMap((c) => {
    const tweet = c.row ? tweetView(c.row) : byId.get(c.tweetId);
    return tweet ? [tweet] : [];
  });
}
