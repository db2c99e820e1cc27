import { describe, expect, it } from 'vitest';
import { afterFailure, maxRetryDelayMs, parseRetryAfter, retryDelayMs } from './retryPolicy.ts';

const policy = { firstDelayMs: 1000, maxRetries: 8 };

describe('retry policy', () => {
  it('backs off exponentially from RESCHEDULE_INTERVAL with jitter between half and the full step', () => {
    expect(retryDelayMs(policy, 1, () => 0)).toBe(500);
    expect(retryDelayMs(policy, 1, () => 1)).toBe(1000);
    expect(retryDelayMs(policy, 2, () => 1)).toBe(2000);
    expect(retryDelayMs(policy, 4, () => 0.5)).toBe(6000);
  });

  it('caps every delay at one hour', () => {
    expect(retryDelayMs(policy, 30, () => 1)).toBe(maxRetryDelayMs);
    expect(afterFailure(policy, 1, 10 * maxRetryDelayMs, () => 0)).toEqual({
      retry: true,
      delayMs: maxRetryDelayMs,
    });
  });

  it('allows RETRY_MAX_ATTEMPTS retries after the first attempt, then gives up', () => {
    for (let attempts = 1; attempts <= 8; attempts++)
      expect(afterFailure(policy, attempts, null).retry).toBe(true);
    expect(afterFailure(policy, 9, null)).toEqual({ retry: false });
    expect(afterFailure({ firstDelayMs: 1000, maxRetries: 0 }, 1, null)).toEqual({ retry: false });
  });

  it('waits at least what Retry-After asks', () => {
    expect(afterFailure(policy, 1, 30_000, () => 0)).toEqual({ retry: true, delayMs: 30_000 });
    expect(afterFailure(policy, 1, 10, () => 0)).toEqual({ retry: true, delayMs: 500 });
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:30 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(undefined, now)).toBeNull();
  });
});
