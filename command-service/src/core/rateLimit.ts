import { Problem, type Redis } from '@tweeter/shared';
import type { RequestHandler } from 'express';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { actorOf } from './authentication.ts';

/**
 * Per-user write limit (RATE_LIMIT_WRITES_PER_MINUTE; 0 turns it off), counted in Redis so every
 * command instance shares one budget per user. Runs after authentication: the key is the user id.
 */
export function writeRateLimit(redis: Redis, perMinute: number): RequestHandler {
  if (perMinute <= 0) return (_req, _res, next) => next();
  const limiter = new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: 'command-writes',
    points: perMinute,
    duration: 60,
  });
  return async (_req, res, next) => {
    const userId = actorOf(res).user.id;
    try {
      const state = await limiter.consume(userId);
      res.setHeader('RateLimit-Limit', String(perMinute));
      res.setHeader('RateLimit-Remaining', String(state.remainingPoints));
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection; // Redis trouble: 503 via the shared mapping
      const retryAfter = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      throw new Problem(
        'rate-limited',
        `At most ${perMinute} writes per minute; try again in ${retryAfter} s`,
        {
          retryAfter,
          headers: { 'RateLimit-Limit': String(perMinute), 'RateLimit-Remaining': '0' },
        },
      );
    }
    next();
  };
}
