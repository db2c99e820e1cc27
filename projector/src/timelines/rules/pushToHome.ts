import type { Entry } from '../stepPlan.ts';
import type { RuleContext } from './rule.ts';

/**
 * Rule `pushToHome`: a posted tweet's entry goes to a home (the author's own, and each follower's
 * unless the author is a celebrity), if it is at or above that home's boundary; the home is then
 * trimmed (`trimHome`). Consecutive pushes to one home are one operation.
 */
export function pushToHome(ctx: RuleContext, home: string, entry: Entry): void {
  ctx.plan.push(home, ctx.position, entry);
}
