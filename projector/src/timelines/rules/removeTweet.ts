import { encodeTimelineMember } from '@tweeter/shared';
import type { RuleContext } from './rule.ts';

/**
 * Rule `removeTweet` (unpush from every home): a deleted tweet leaves its author's list, its body,
 * and the homes of everyone who may hold it: the author and the current followers (an unfollow
 * already removed it from former followers; a celebrity's older tweets may still be fanned out).
 */
export function removeTweet(
  ctx: RuleContext,
  authorId: string,
  tweetId: string,
  homesOf: Iterable<string>,
): void {
  const member = encodeTimelineMember(tweetId);
  for (const home of homesOf) ctx.plan.remove(home, ctx.position, [member]);
  ctx.plan.effects.zrem(ctx.keys.author(authorId), member);
  ctx.plan.effects.del(ctx.keys.tweet(tweetId));
  ctx.authors.delete(authorId, member);
  ctx.plan.weigh(2);
}
