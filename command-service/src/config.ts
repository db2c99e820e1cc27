import { environmentSchema, loadConfig } from '@tweeter/shared';
import { z } from 'zod';

/** The contract's variables plus the command service's own. */
export const commandEnvironmentSchema = environmentSchema.extend({
  /**
   * Server secret the tokens of keyed sign-ups are derived from (so a replay can answer with the
   * same token without the token ever being stored). Unset: a random secret is generated once and
   * kept in the service's own PostgreSQL table, so it survives restarts with no configuration.
   */
  TOKEN_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
});

export type CommandConfig = Readonly<z.infer<typeof commandEnvironmentSchema>>;

export const loadCommandConfig = (env: NodeJS.ProcessEnv = process.env): CommandConfig =>
  loadConfig(env, commandEnvironmentSchema);
