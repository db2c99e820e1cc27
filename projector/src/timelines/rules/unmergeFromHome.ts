import { boundaryOf, type RuleContext } from './rule.ts';

/**
 * Rule `unmergeFromHome`: an unfollow drops the edge from the projection's follow graph and
 * removes every entry of the followee from the follower's home: the followee's entries at or
 * above the home's boundary as loaded for the batch (the home holds nothing below its boundary,
 * and a boundary only rises). The boundary does not move: removals only shrink a home. A user's
 * deletion unmerges the user from each follower's home the same way (`unmergeAuthor`).
 */
export function unmergeFromHome(ctx: RuleContext, followerId: string, followeeId: string): void {
  const { effects } = ctx.plan;
  effects.srem(ctx.keys.followers(followeeId), followerId);
  effects.srem(ctx.keys.following(followerId), followeeId);
  ctx.plan.weigh(2);
  unmergeAuthor(ctx, followerId, followeeId);
}

/** Removes every entry of `authorId` that `home` may hold, leaving the follow graph alone. */
export function unmergeAuthor(ctx: RuleContext, home: string, authorId: string): void {
  const members = ctx.authors.atOrAbove(authorId, boundaryOf(ctx, home)).map((e) => e.member);
  if (members.length > 0) ctx.plan.remove(home, ctx.position, members);
}
