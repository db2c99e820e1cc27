import type { RuleContext } from './rule.ts';

/**
 * Rule `markCelebrity`: an author whose follower count exceeds FANOUT_MAX_FOLLOWERS joins
 * `celebs` for good (sticky, so that the state is a function of the log: dropping back would need
 * a mass merge into every follower's home). A celebrity's tweets are pushed to no follower's home
 * and merged by no follow; readers merge the author's list at read time.
 */
export function markCelebrity(ctx: RuleContext, userId: string): void {
  ctx.graph.addCelebrity(userId);
  ctx.plan.effects.sadd(ctx.keys.celebs, userId);
  ctx.plan.weigh(1);
}
