import {
  defaultTimelineStreamLength,
  defaultTimelinesVersion,
  redisServersOf,
} from '@tweeter/shared';
import { defineProjection } from '../runtime/projection.ts';
import { snapshotLiveTimelines } from './compareCopies.ts';
import { TimelinesProjection } from './timelinesProjection.ts';

/** `timelines`: home timelines, author lists and the follow graph in Redis, one key version per copy. */
export const timelines = defineProjection({
  name: 'timelines',
  catchUpBatchSize: 100_000,
  copies: {
    default: defaultTimelinesVersion,
    rebuildName: (stamp) => `v${stamp}`,
    scratchName: (tag) => `verify${tag}`,
  },
  create: (copy, { config, logger, inline }) =>
    new TimelinesProjection({
      redis: redisServersOf(config),
      redisPrefix: config.REDIS_PREFIX,
      version: copy,
      fanoutMaxFollowers: config.FANOUT_MAX_FOLLOWERS,
      streamLength: config.TIMELINE_STREAM_LENGTH ?? defaultTimelineStreamLength,
      partitions: config.TIMELINES_PARTITIONS ?? 0,
      inline: inline ?? false,
      ...(config.DATABASE_URL ? { databaseUrl: config.DATABASE_URL } : {}),
      logger,
    }),
  snapshotLive: snapshotLiveTimelines,
});
