import { environmentSchema, httpUrl, loadConfig } from '@tweeter/shared';
import { z } from 'zod';
import { isProjectionName, projectionNames, type ProjectionName } from './registry.ts';

/**
 * PROJECTOR_PROJECTIONS: a comma-separated subset of the registry's projections to run in this
 * process (e.g. to scale them out over processes); unset runs them all. A name the registry does
 * not know is refused with the list of those it does.
 */
const projectionList = z
  .string()
  .default(projectionNames.join(','))
  .transform((value, ctx): ProjectionName[] => {
    const names = [
      ...new Set(
        value
          .split(',')
          .map((n) => n.trim())
          .filter(Boolean),
      ),
    ];
    const unknown = names.filter((n) => !isProjectionName(n));
    if (unknown.length > 0) {
      ctx.addIssue({
        code: 'custom',
        message: `names unknown projections: ${unknown.join(', ')}; the projections are ${projectionNames.join(', ')}`,
      });
      return z.NEVER;
    }
    if (names.length === 0) {
      ctx.addIssue({
        code: 'custom',
        message: `names no projection; the projections are ${projectionNames.join(', ')}`,
      });
      return z.NEVER;
    }
    return names as ProjectionName[];
  });

/** The contract's variables plus the projector's own (the admin CLI reads the same). */
export const projectorEnvironmentSchema = environmentSchema.extend({
  PROJECTOR_PROJECTIONS: projectionList,
  /** tweeter-admin: where the running projector answers /status (else localhost:PROJECTOR_PORT). */
  PROJECTOR_URL: httpUrl.optional(),
  /** tweeter-admin: the level of the projection classes' own logs (silent: only the CLI speaks). */
  ADMIN_LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('silent'),
});

export type ProjectorConfig = Readonly<z.infer<typeof projectorEnvironmentSchema>>;

export const loadProjectorConfig = (env: NodeJS.ProcessEnv = process.env): ProjectorConfig =>
  loadConfig(env, projectorEnvironmentSchema);
