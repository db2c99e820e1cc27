import type pg from 'pg';
import {
  connectRedis,
  decodeHomeMember,
  decodeTimelineMember,
  homeScore,
  timelineKeys,
  type RedisServers,
} from '@tweeter/shared';
import type { ReferenceModel } from './referenceModel.ts';

/**
 * Differences between the projections and the reference model, as readable lines (empty: none).
 * Checks the read model's rows and counters, and for each user the prefix invariant of the home
 * timeline: the Redis head is exactly the reference timeline (without celebrities) down to the
 * boundary, and the whole of it when there is no boundary.
 */
export async function differencesFromReference(
  ref: ReferenceModel,
  target: {
    pool: pg.Pool;
    schema: string;
    redis: RedisServers;
    redisPrefix: string;
    version: string;
  },
): Promise<string[]> {
  const problems: string[] = [];
  const s = `"${target.schema}"`;
  const { rows: users } = await target.pool.query<{
    id: string;
    display_name: string;
    followers_count: number;
    following_count: number;
    tweet_count: number;
  }>(`SELECT * FROM ${s}.users`);
  if (users.length !== ref.users.size)
    problems.push(`read model has ${users.length} users, reference ${ref.users.size}`);
  const { rows: follows } = await target.pool.query<{ follower_id: string; followee_id: string }>(
    `SELECT follower_id, followee_id FROM ${s}.follows`,
  );
  const refEdges = new Set(
    [...ref.follows].flatMap(([a, m]) => [...m.keys()].map((b) => `${a}>${b}`)),
  );
  const edges = new Set(follows.map((f) => `${f.follower_id}>${f.followee_id}`));
  for (const e of refEdges) if (!edges.has(e)) problems.push(`read model lacks edge ${e}`);
  for (const e of edges) if (!refEdges.has(e)) problems.push(`read model has extra edge ${e}`);
  const { rows: tweets } = await target.pool.query<{ id: string }>(`SELECT id FROM ${s}.tweets`);
  const tweetIds = new Set(tweets.map((t) => t.id));
  for (const id of ref.tweets.keys())
    if (!tweetIds.has(id)) problems.push(`read model lacks tweet ${id}`);
  if (tweetIds.size !== ref.tweets.size)
    problems.push(`read model has ${tweetIds.size} tweets, reference ${ref.tweets.size}`);
  for (const u of users) {
    const r = ref.users.get(u.id);
    if (!r) {
      problems.push(`read model has deleted/unknown user ${u.id}`);
      continue;
    }
    const followers = ref.followersOf(u.id).length;
    const following = ref.follows.get(u.id)?.size ?? 0;
    const tweetCount = [...ref.tweets.values()].filter((t) => t.authorId === u.id).length;
    if (
      u.followers_count !== followers ||
      u.following_count !== following ||
      u.tweet_count !== tweetCount ||
      u.display_name !== r.displayName
    )
      problems.push(
        `user ${u.id}: counters ${u.followers_count}/${u.following_count}/${u.tweet_count} name ${u.display_name}, ` +
          `reference ${followers}/${following}/${tweetCount} name ${r.displayName}`,
      );
  }

  const keys = timelineKeys(target.version);
  const redis = connectRedis(target.redis, target.redisPrefix);
  try {
    const celebs = new Set(await redis.smembers(keys.celebs));
    for (const c of ref.celebrities) if (!celebs.has(c)) problems.push(`celebs lacks ${c}`);
    if (celebs.size !== ref.celebrities.size) problems.push(`celebs: ${[...celebs].join(',')}`);
    for (const userId of ref.users.keys()) {
      const hash = await redis.hgetallBuffer(keys.user(userId));
      if (!hash.u) {
        problems.push(`user hash missing for ${userId}`);
        continue;
      }
      const raw = await redis.zrangeBuffer(keys.home(userId), 0, -1, 'WITHSCORES');
      const head: string[] = [];
      for (let i = 0; i < raw.length; i += 2) {
        const id = decodeHomeMember(raw[i]!);
        // A celebrity's tweets fanned out before they became one may stay; readers deduplicate.
        const author = ref.tweets.get(id)?.authorId;
        if (author !== undefined && author !== userId && ref.celebrities.has(author)) continue;
        head.push(`${homeScore(Number(raw[i + 1]!.toString()))}:${id}`);
      }
      const truth = ref.homeTimeline(userId, true).map((e) => `${e.score}:${e.id}`);
      let expected = truth;
      if (hash.bs && hash.bm) {
        const boundary = { score: Number(hash.bs.toString()), id: decodeTimelineMember(hash.bm) };
        expected = ref
          .homeTimeline(userId, true)
          .filter(
            (e) => e.score > boundary.score || (e.score === boundary.score && e.id >= boundary.id),
          )
          .map((e) => `${e.score}:${e.id}`);
        if (head.length > 800) problems.push(`home of ${userId} holds ${head.length} > 800`);
      }
      if (head.join() !== expected.join())
        problems.push(
          `home of ${userId}: ${head.length} entries, expected ${expected.length} (of ${truth.length}; boundary ${hash.bs ? 'set' : 'none'})`,
        );
      const authored = await redis.zcard(keys.author(userId));
      const refAuthored = [...ref.tweets.values()].filter((t) => t.authorId === userId).length;
      if (authored !== refAuthored)
        problems.push(`author list of ${userId}: ${authored}, reference ${refAuthored}`);
    }
    for (const [id, t] of ref.tweets) {
      const body = await redis.get(keys.tweet(id));
      if (!body || (JSON.parse(body) as { text: string }).text !== t.text)
        problems.push(`tweet body ${id} missing or wrong`);
    }
  } finally {
    redis.disconnect();
  }
  return problems;
}
