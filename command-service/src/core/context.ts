import type { RequestHandler } from 'express';
import type { CommandDependencies } from './deps.ts';
import type { CommandMetrics } from './metrics.ts';

/** What route handlers get: the dependencies with defaults filled in, metrics and auth guards. */
export interface CommandContext extends Required<CommandDependencies> {
  metrics: CommandMetrics;
  /** Authentication then the per-user write limit: every authenticated write runs these first. */
  authenticatedWrite: RequestHandler[];
  /** The per-address sign-up limit: sign-up, the one anonymous write, runs it first. */
  signUpRateLimit: RequestHandler;
}
