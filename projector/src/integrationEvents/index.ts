import { defineProjection } from '../runtime/projection.ts';
import { IntegrationEventsProjection } from './integrationEventsProjection.ts';

/**
 * `integration-events`: every catalogue event published to NATS JetStream. Its one copy is the
 * stream NATS_PREFIX names: there are no readers to switch, so nothing to rebuild beside it.
 */
export const integrationEvents = defineProjection({
  name: 'integration-events',
  catchUpBatchSize: 1000,
  copies: false,
  notVerifiable: 'its copy is a stream of published messages, not state to compare',
  rebuildInstead:
    'rebuild it with `reset integration-events` (its stream is republished; consumers deduplicate by event id)',
  create: (_copy, { config, pool, logger }) =>
    new IntegrationEventsProjection({
      natsUrl: config.NATS_URL,
      replicas: config.NATS_STREAM_REPLICAS,
      natsPrefix: config.NATS_PREFIX,
      pool,
      logger,
    }),
});
