import { isIPv4, isIPv6 } from 'node:net';
import { Problem, type RedisClient } from '@tweeter/shared';
import type { Request, RequestHandler, Response } from 'express';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { actorOf } from './authentication.ts';

const pass: RequestHandler = (_req, _res, next) => next();

/**
 * A limit counted in Redis, so every command instance shares one budget per key. Over it: 429
 * rate-limited with Retry-After. Redis trouble is no RateLimiterRes and is rethrown: 503 via the
 * shared mapping, never a pass (failing open would make the limit vanish with Redis).
 */
function redisLimit(options: {
  redis: RedisClient;
  keyPrefix: string;
  points: number;
  seconds: number;
  keyOf: (req: Request, res: Response) => string;
  refusal: (retryAfter: number) => string;
}): RequestHandler {
  const { points, refusal } = options;
  const limiter = new RateLimiterRedis({
    storeClient: options.redis,
    keyPrefix: options.keyPrefix,
    points,
    duration: options.seconds,
  });
  return async (req, res, next) => {
    try {
      const state = await limiter.consume(options.keyOf(req, res));
      res.setHeader('RateLimit-Limit', String(points));
      res.setHeader('RateLimit-Remaining', String(state.remainingPoints));
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection; // Redis trouble: 503 via the shared mapping
      const retryAfter = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      throw new Problem('rate-limited', refusal(retryAfter), {
        retryAfter,
        headers: { 'RateLimit-Limit': String(points), 'RateLimit-Remaining': '0' },
      });
    }
    next();
  };
}

/**
 * Per-user write limit (RATE_LIMIT_WRITES_PER_MINUTE; 0 turns it off). Runs after
 * authentication: the key is the user id.
 */
export function writeRateLimit(redis: RedisClient, perMinute: number): RequestHandler {
  if (perMinute <= 0) return pass;
  return redisLimit({
    redis,
    keyPrefix: 'command-writes',
    points: perMinute,
    seconds: 60,
    keyOf: (_req, res) => actorOf(res).user.id,
    refusal: (retryAfter) => `At most ${perMinute} writes per minute; try again in ${retryAfter} s`,
  });
}

/**
 * Per-address sign-up limit (RATE_LIMIT_SIGNUPS_PER_HOUR; 0 turns it off): sign-up is the one
 * anonymous write. Runs before the body is validated and the command decided, so every attempt
 * counts, refused ones (400, 409) too: deciding them costs the server as much, and not counting
 * them would leave probing for free names unlimited. Over the limit nothing is decided, so nothing
 * is appended. The address is express's req.ip, which honours X-Forwarded-For only from the
 * proxies TRUST_PROXY names.
 */
export function signUpRateLimit(redis: RedisClient, perHour: number): RequestHandler {
  if (perHour <= 0) return pass;
  return redisLimit({
    redis,
    keyPrefix: 'command-signups',
    points: perHour,
    seconds: 3600,
    keyOf: (req) => clientKey(req.ip ?? req.socket.remoteAddress ?? 'unknown'),
    refusal: (retryAfter) =>
      `At most ${perHour} sign-ups per hour from one address; try again in ${retryAfter} s`,
  });
}

/**
 * The limiter key of a client address: IPv4 as is (also when IPv4-mapped), IPv6 by its /64, the
 * block one subscriber usually gets, so that walking through one's own addresses buys nothing.
 */
export function clientKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped && isIPv4(mapped[1]!)) return mapped[1]!;
  if (!isIPv6(address)) return address;
  const [head = '', tail = ''] = address.split('%', 1)[0]!.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = address.includes('::')
    ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}
