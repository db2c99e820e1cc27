import type pg from 'pg';
import type { Config, Logger } from '@tweeter/shared';
import { IntegrationEventsProjection } from './integrationEvents/integrationEventsProjection.ts';
import { ReadModelProjection } from './readModel/readModelProjection.ts';
import type { Projection, ProjectionName } from './runtime/projection.ts';
import { TimelinesProjection } from './timelines/timelinesProjection.ts';

export interface ProjectionDeps {
  config: Pick<
    Config,
    'REDIS_URL' | 'REDIS_PREFIX' | 'NATS_URL' | 'NATS_PREFIX' | 'FANOUT_MAX_FOLLOWERS'
  >;
  /** The read model's and the checkpoints' database. */
  pool: pg.Pool;
  logger: Logger;
}

/**
 * One projection writing to `copy`: the read model's schema, the timelines' key version. The
 * integration events' copy is its stream, fixed by NATS_PREFIX (`copy` is ignored).
 */
export function createProjection(
  name: ProjectionName,
  copy: string,
  { config, pool, logger }: ProjectionDeps,
): Projection {
  switch (name) {
    case 'read-model':
      return new ReadModelProjection(pool, copy);
    case 'timelines':
      return new TimelinesProjection({
        redisUrl: config.REDIS_URL,
        redisPrefix: config.REDIS_PREFIX,
        version: copy,
        fanoutMaxFollowers: config.FANOUT_MAX_FOLLOWERS,
        logger,
      });
    case 'integration-events':
      return new IntegrationEventsProjection({
        natsUrl: config.NATS_URL,
        natsPrefix: config.NATS_PREFIX,
        pool,
        logger,
      });
    default: {
      const never: never = name;
      throw new Error(`unknown projection ${String(never)}`);
    }
  }
}

/** Batch sizes while catching up: as large as each target digests well. */
export const catchUpBatchSize: Record<ProjectionName, number> = {
  'read-model': 20_000,
  timelines: 10_000,
  'integration-events': 1000,
};
