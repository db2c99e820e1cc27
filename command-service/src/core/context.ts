import type { RequestHandler } from 'express';
import type { ActorStates } from './actors.ts';
import type { CommandDependencies } from './deps.ts';
import type { CommandMetrics } from './metrics.ts';

/** What route handlers get: the dependencies with defaults filled in, metrics and auth guards. */
export interface CommandContext extends Required<CommandDependencies> {
  metrics: CommandMetrics;
  /** The acting users this process knows (a post decides on them without a read). */
  actors: ActorStates;
  /** Authentication then the per-user write limit: every authenticated write runs these first. */
  authenticatedWrite: RequestHandler[];
  /**
   * The same for POST /tweets, whose append expects the author's cached revision, so the token is
   * checked against the cached state and a deletion since is caught by that append.
   */
  authenticatedPost: RequestHandler[];
  /** The per-address sign-up limit: sign-up, the one anonymous write, runs it first. */
  signUpRateLimit: RequestHandler;
}
