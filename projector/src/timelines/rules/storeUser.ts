import type { RuleContext } from './rule.ts';

/**
 * Rule `storeUser`: a created user gets the user hash (`u` username, `d` display name), whose `u`
 * field exists exactly while the user exists; a profile update rewrites the display name.
 */
export function storeUser(ctx: RuleContext, userId: string, username: string, displayName: string) {
  ctx.plan.effects.hset(ctx.keys.user(userId), 'u', username);
  ctx.plan.effects.hset(ctx.keys.user(userId), 'd', displayName);
  ctx.plan.weigh(1);
}

export function updateUser(ctx: RuleContext, userId: string, displayName: string): void {
  ctx.plan.effects.hset(ctx.keys.user(userId), 'd', displayName);
  ctx.plan.weigh(1);
}
