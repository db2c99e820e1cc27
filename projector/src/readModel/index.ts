import { defaultReadModelSchema } from '@tweeter/shared';
import { defineProjection } from '../runtime/projection.ts';
import { snapshotLiveReadModel } from './compareCopies.ts';
import { ReadModelProjection } from './readModelProjection.ts';

/** `read-model`: users, follows and tweets in PostgreSQL, one schema per copy. */
export const readModel = defineProjection({
  name: 'read-model',
  // Hot users' counters are updated once per batch: the larger, the fewer updates.
  catchUpBatchSize: 20_000,
  copies: {
    default: defaultReadModelSchema,
    // Plain identifiers: the schema name is spliced into SQL.
    rebuildName: (stamp) => `read_model_${stamp.slice(0, 8)}_${stamp.slice(8)}`,
    scratchName: (tag) => `verify_${tag}`,
  },
  create: (copy, { pool }) => new ReadModelProjection(pool, copy),
  snapshotLive: (projection, { pool }) => snapshotLiveReadModel(pool, projection.copy),
});
