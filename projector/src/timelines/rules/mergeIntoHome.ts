import type { RuleContext } from './rule.ts';

/**
 * Rule `mergeIntoHome`: a follow records the edge in the projection's follow graph, then merges
 * the followee's newest `cap` entries, as of the follow, that are at or above the follower's
 * boundary into the follower's home, and trims it (`trimHome`). A celebrity followee is not
 * merged: readers merge a celebrity's list at read time.
 */
export function mergeIntoHome(
  ctx: RuleContext,
  followerId: string,
  followeeId: string,
  merge: boolean,
): void {
  const { effects } = ctx.plan;
  effects.sadd(ctx.keys.followers(followeeId), followerId);
  effects.sadd(ctx.keys.following(followerId), followeeId);
  ctx.plan.weigh(2);
  if (!merge) return;
  const entries = ctx.authors.newest(followeeId, ctx.cap);
  if (entries.length > 0) ctx.plan.merge(followerId, ctx.position, entries);
}
