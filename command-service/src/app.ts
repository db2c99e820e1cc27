import { installApi, createHttpApp, createMetricsRegistry, finishHttpApp } from '@tweeter/shared';
import type { Express } from 'express';
import { ActorStates } from './core/actors.ts';
import { authenticate } from './core/authentication.ts';
import type { CommandContext } from './core/context.ts';
import type { CommandDependencies } from './core/deps.ts';
import { createCommandMetrics } from './core/metrics.ts';
import { domainErrors } from './core/problems.ts';
import { signUpRateLimit, writeRateLimit } from './core/rateLimit.ts';
import { registerCreatingUser } from './creatingUser/route.ts';
import { registerDeletingTweet } from './deletingTweet/route.ts';
import { registerDeletingUser } from './deletingUser/route.ts';
import { registerFollowing } from './following/route.ts';
import { registerPostingTweet } from './postingTweet/route.ts';
import { registerUnfollowing } from './unfollowing/route.ts';
import { registerUpdatingProfile } from './updatingProfile/route.ts';
import { defaultReservationGraceMs } from './domain/usernames/usernameReservation.ts';

export type { CommandDependencies } from './core/deps.ts';

const useCases = [
  registerCreatingUser,
  registerUpdatingProfile,
  registerDeletingUser,
  registerFollowing,
  registerUnfollowing,
  registerPostingTweet,
  registerDeletingTweet,
];

/**
 * The command service as an express app. Every dependency comes in, so tests run it in-process
 * against their own database and Redis prefix; main.ts wires the real ones.
 */
export function createCommandApp(deps: CommandDependencies): Express {
  const registry = createMetricsRegistry('command-service');
  const app = createHttpApp({
    name: 'command-service',
    logger: deps.logger,
    registry,
    readiness: { eventStore: () => deps.eventStore.ping(), redis: () => deps.redis.ping() },
  });
  // req.ip, the sign-up limit's key, believes X-Forwarded-For only from these proxies (unset: the
  // shared default, loopback only).
  if (deps.config.TRUST_PROXY !== undefined) app.set('trust proxy', deps.config.TRUST_PROXY);
  const actors = new ActorStates(deps.eventStore);
  const writeLimit = writeRateLimit(deps.redis, deps.config.RATE_LIMIT_WRITES_PER_MINUTE);
  const ctx: CommandContext = {
    usernameGraceMs: defaultReservationGraceMs,
    maxConflictRetries: 5,
    ...deps,
    metrics: createCommandMetrics(registry),
    actors,
    authenticatedWrite: [authenticate(actors, 'current'), writeLimit],
    authenticatedPost: [authenticate(actors, 'cached'), writeLimit],
    signUpRateLimit: signUpRateLimit(deps.redis, deps.config.RATE_LIMIT_SIGNUPS_PER_HOUR),
  };
  installApi(app, ctx, useCases, {
    title: 'Mini Tweeter command service',
    version: '1',
    description:
      'Commands: sign up, profile, follows, tweets. Every success that appended events carries ' +
      'X-Event-Position. Errors are application/problem+json (RFC 9457).',
  });
  // Refusals of the domain become problems here, for the shared problem+json handler.
  app.use(domainErrors);
  finishHttpApp(app, deps.logger);
  return app;
}
