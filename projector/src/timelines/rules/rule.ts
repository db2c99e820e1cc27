import type { Position, TimelineKeys } from '@tweeter/shared';
import type { AuthorLists } from '../authorLists.ts';
import type { FollowGraph } from '../followGraph.ts';
import type { StepPlan } from '../stepPlan.ts';

/** What a rule plans with and into: the step's writes, and what the batch read before planning. */
export interface RuleContext {
  /** The step being planned: homes' operations, tweet bodies, shared effects. */
  readonly plan: StepPlan;
  /** The projection's follow graph, as the batch's earlier events left it. */
  readonly graph: FollowGraph;
  /** Authors' lists as of each event (batch start + the batch's own posts and deletions). */
  readonly authors: AuthorLists;
  /**
   * Home boundaries' scores as loaded at the start of the batch (null: never trimmed). A boundary
   * only moves up, so this is a floor of every entry a home holds later in the batch.
   */
  readonly boundaries: ReadonlyMap<string, number | null>;
  /** The copy's keys (without REDIS_PREFIX: the connection adds it). */
  readonly keys: TimelineKeys;
  /** Home timeline cap (800). */
  readonly cap: number;
  /** The position of the event being planned. */
  readonly position: Position;
}

/** A home's boundary score as loaded for the batch. */
export function boundaryOf(ctx: RuleContext, home: string): number | null {
  const floor = ctx.boundaries.get(home);
  if (floor === undefined) throw new Error(`timelines: the boundary of ${home} was not loaded`);
  return floor;
}
