/** Longest wait between two attempts, whatever the backoff or a Retry-After says. */
export const maxRetryDelayMs = 60 * 60 * 1000;

export interface RetryPolicy {
  /** RESCHEDULE_INTERVAL: the first retry's delay. */
  firstDelayMs: number;
  /** RETRY_MAX_ATTEMPTS: retries after the first attempt. */
  maxRetries: number;
}

/**
 * Delay before retry number `retry` (1-based): RESCHEDULE_INTERVAL · 2^(retry-1), capped at 1 h,
 * with "equal jitter" (half fixed, half random) so a receiver that comes back is not hit by every
 * subscription's retry in the same instant, while no retry comes sooner than half its step.
 */
export function retryDelayMs(policy: RetryPolicy, retry: number, random = Math.random): number {
  const step = Math.min(maxRetryDelayMs, policy.firstDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.round(step / 2 + random() * (step / 2));
}

/**
 * What follows a failed attempt: another try after a delay (at least what the receiver's
 * Retry-After asked for), or none when the round's retries are spent.
 */
export function afterFailure(
  policy: RetryPolicy,
  attemptsThisRound: number,
  retryAfterMs: number | null,
  random = Math.random,
): { retry: true; delayMs: number } | { retry: false } {
  const retriesDone = attemptsThisRound - 1;
  if (retriesDone >= policy.maxRetries) return { retry: false };
  const backoff = retryDelayMs(policy, retriesDone + 1, random);
  return { retry: true, delayMs: Math.min(maxRetryDelayMs, Math.max(backoff, retryAfterMs ?? 0)) };
}

/** A Retry-After header (seconds or an HTTP date) in ms from `now`, or null when absent or bad. */
export function parseRetryAfter(value: string | undefined, now: Date): number | null {
  if (value === undefined) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return null;
  return Math.max(0, date - now.getTime());
}
