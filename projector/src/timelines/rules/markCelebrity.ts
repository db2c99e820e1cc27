import type { PlanBuffer, StepTransaction } from './rule.ts';

export type MarkCelebrityOp = { kind: 'becomeCelebrity'; userId: string };

/**
 * Rule `markCelebrity`: an author whose follower count exceeds FANOUT_MAX_FOLLOWERS joins
 * `celebs` for good (sticky, so that the state is a function of the log: dropping back would need
 * a mass merge into every follower's home). A celebrity's tweets are pushed to no follower's home
 * and merged by no follow; readers merge the author's list at read time.
 */
export function markCelebrity(buffer: PlanBuffer, userId: string): void {
  buffer.graph.addCelebrity(userId);
  buffer.push({ kind: 'becomeCelebrity', userId });
}

export function emitMarkCelebrity(tx: StepTransaction, op: MarkCelebrityOp): void {
  tx.multi.sadd(tx.keys.celebs, op.userId);
}
