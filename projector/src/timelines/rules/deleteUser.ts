import { decodeTimelineMember } from '@tweeter/shared';
import type { RuleContext } from './rule.ts';
import { unmergeAuthor } from './unmergeFromHome.ts';

/**
 * Rule `deleteUser`: the user's entries leave every follower's home (`unmergeAuthor`), the user's
 * own home is dropped, the user leaves both sides of the follow graph, and all the user's keys
 * and tweet bodies are deleted (each body key named here: nothing derives key names in Lua), but
 * for the home's stamp.
 */
export function deleteUser(
  ctx: RuleContext,
  userId: string,
  followers: readonly string[],
  following: readonly string[],
): void {
  const { effects } = ctx.plan;
  const k = ctx.keys;
  for (const f of followers) {
    unmergeAuthor(ctx, f, userId);
    effects.srem(k.following(f), userId);
  }
  for (const f of following) effects.srem(k.followers(f), userId);
  ctx.plan.drop(userId, ctx.position);
  for (const member of ctx.authors.allMembers(userId))
    effects.del(k.tweet(decodeTimelineMember(member)));
  for (const key of [k.author(userId), k.followers(userId), k.following(userId)]) effects.del(key);
  // The user hash keeps the home's stamp (`s`) alone: a tombstone, so that a fan-out chunk of
  // the user's home applied late or twice finds its operations already applied.
  effects.hdel(k.user(userId), 'u');
  effects.hdel(k.user(userId), 'd');
  effects.srem(k.celebs, userId);
  ctx.plan.weigh(followers.length + following.length + 6);
}
