import { environmentSchema, httpUrl, loadConfig, milliseconds } from '@tweeter/shared';
import { z } from 'zod';

/**
 * A Standard Webhooks secret: `whsec_` followed by base64 (the prefix is optional here). The
 * receiver's library base64-decodes the part after the prefix, so the dispatcher signs with exactly
 * those bytes; anything else could never verify.
 */
export const webhookSecretField = z
  .string()
  .refine(
    (v) => /^(whsec_)?[A-Za-z0-9+/]{22,}={0,2}$/.test(v) && signingKey(v).length >= 16,
    'must be whsec_ followed by at least 16 bytes in base64',
  );

/** The HMAC key of a `whsec_…` secret: the base64-decoded part after the prefix. */
export const signingKey = (secret: string): Buffer =>
  Buffer.from(secret.replace(/^whsec_/, ''), 'base64');

/**
 * The contract's variables plus the dispatcher's own, named after the hookme service whose
 * semantics the digest tasks keep (docs/webhooks.md lists them side by side).
 */
export const dispatcherEnvironmentSchema = environmentSchema.extend({
  /** ms a digest task waits before its first attempt. */
  SCHEDULE_INTERVAL: milliseconds(1500),
  /** ms before the first retry; later retries back off exponentially with jitter, capped at 1 h. */
  RESCHEDULE_INTERVAL: milliseconds(5000, 1),
  /** Retries after the first attempt, then `dead` (deliveries) or `failed` (tasks). */
  RETRY_MAX_ATTEMPTS: z.coerce.number().int().min(0).max(100).default(8),
  /** Outgoing requests in flight per process, and the cap on unfinished tasks; -1 = no limit. */
  RATE_LIMIT_MAX_SIMULTANEOUS_JOBS: z.coerce
    .number()
    .int()
    .refine((v) => v === -1 || v >= 1, 'must be -1 (no limit) or at least 1')
    .default(16),
  /** Where digest tasks go when the request names no webhookUrl. */
  WEBHOOK_URL: httpUrl.optional(),
  /** The query service the digest is read from; default: this stack's, on QUERY_PORT. */
  API_URL: httpUrl.optional(),
  /** Bearer token for API_URL, when it needs one. */
  API_TOKEN: z.string().optional(),
  /** Signs digest deliveries (Standard Webhooks) when set. */
  WEBHOOK_SECRET: webhookSecretField.optional(),
  WEBHOOK_TIMEOUT_MS: milliseconds(10_000, 1),
  /** true: loopback, private, link-local and metadata targets are allowed (development, tests). */
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: z.stringbool().default(false),
  DISPATCHER_DATABASE_POOL_SIZE: z.coerce.number().int().min(2).default(20),
});

export type DispatcherConfig = Readonly<
  Omit<z.infer<typeof dispatcherEnvironmentSchema>, 'API_URL'> & { API_URL: string }
>;

export function loadDispatcherConfig(env: NodeJS.ProcessEnv = process.env): DispatcherConfig {
  const config = loadConfig(env, dispatcherEnvironmentSchema);
  // A second stack started with other ports reaches its own query service, not the first one's.
  const API_URL = config.API_URL ?? `http://127.0.0.1:${config.QUERY_PORT}`;
  return Object.freeze({ ...config, API_URL });
}

/** The graphile-worker concurrency for RATE_LIMIT_MAX_SIMULTANEOUS_JOBS (-1: a generous 100). */
export const workerConcurrency = (cap: number): number => (cap === -1 ? 100 : cap);
