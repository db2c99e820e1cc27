import type { ChainableCommander } from 'ioredis';
import type { TimelineKeys } from '@tweeter/shared';
import type { FollowGraph } from '../followGraph.ts';
import type { TimelineOp, TimelineScriptName } from './index.ts';
import type { PushToHomeOp } from './pushToHome.ts';

/**
 * What a rule's plan step writes to: the step's ordered operations (the planner, plan.ts). A rule
 * appends its operation and keeps the home add groups in order (`touch`).
 */
export interface PlanBuffer {
  /** The projection's follow graph, as the step's earlier events left it. */
  readonly graph: FollowGraph;
  /** Appends `op`, counting `weight` commands (the caller splits batches by weight). */
  push(op: TimelineOp, weight?: number): void;
  /** Counts `weight` more commands for an operation already appended (a growing add group). */
  weigh(weight: number): void;
  /** An operation on `home` follows: later entries for it start a new add group. */
  touch(home: string): void;
  /** The open add group of each home (`pushToHome`'s). */
  readonly openPushes: Map<string, PushToHomeOp>;
}

/** What a rule's Redis side writes to: the step's MULTI, inside which every script runs. */
export interface StepTransaction {
  readonly multi: ChainableCommander;
  /** The copy's keys (without REDIS_PREFIX: the connection adds it). */
  readonly keys: TimelineKeys;
  /** Home timeline cap (800). */
  readonly cap: number;
  /** REDIS_PREFIX, for scripts that derive key names themselves. */
  readonly redisPrefix: string;
  /** The SHA of a loaded script. */
  sha(script: TimelineScriptName): string;
}
