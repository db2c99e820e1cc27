import { environmentSchema, loadConfig } from '@tweeter/shared';
import express from 'express';
import { z } from 'zod';

/**
 * TRUST_PROXY: express's `trust proxy` values. "true"/"false", a number of hops, or a
 * comma-separated list of addresses, subnets and the names loopback, linklocal, uniquelocal.
 * Checked by express itself, so a value express would refuse fails at start-up, named.
 */
const trustProxy = z
  .string()
  .trim()
  .transform((value): boolean | number | string =>
    value === 'true'
      ? true
      : value === 'false'
        ? false
        : /^\d+$/.test(value)
          ? Number(value)
          : value,
  )
  .refine((value) => {
    try {
      express().set('trust proxy', value);
      return true;
    } catch {
      return false;
    }
  }, 'must be true, false, a number of hops, or addresses/subnets (or loopback, linklocal, uniquelocal) separated by commas')
  .optional();

/** The contract's variables plus the command service's own. */
export const commandEnvironmentSchema = environmentSchema.extend({
  /**
   * Server secret the tokens of keyed sign-ups are derived from (so a replay can answer with the
   * same token without the token ever being stored). Unset: a random secret is generated once and
   * kept in the service's own PostgreSQL table, so it survives restarts with no configuration.
   */
  TOKEN_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  /** Sign-ups (POST /users) per client address and hour, counted in Redis; 0 turns it off. */
  RATE_LIMIT_SIGNUPS_PER_HOUR: z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(0)
    .default(20),
  /**
   * Which proxies' X-Forwarded-For to believe for the client address (the sign-up limit's key).
   * Unset: only one on the same host (loopback), the default of every service's HTTP app. Behind
   * a load balancer on another host, set it to that balancer's addresses or hop count, or every
   * client shares the balancer's address and so one sign-up budget.
   */
  TRUST_PROXY: trustProxy,
});

export type CommandConfig = Readonly<z.infer<typeof commandEnvironmentSchema>>;

export const loadCommandConfig = (env: NodeJS.ProcessEnv = process.env): CommandConfig =>
  loadConfig(env, commandEnvironmentSchema);
