import { sql, type Kysely } from 'kysely';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { DispatcherDatabase } from './tables.ts';

/** The dispatcher's own metrics; request counts and latency come from the shared HTTP kit. */
export function createDispatcherMetrics(registry: Registry, db: Kysely<DispatcherDatabase>) {
  // Read at scrape time, so every process reports the same shared truth from PostgreSQL.
  const unfinished = async () => {
    const row = await sql<{ depth: number; oldest: Date | null }>`
      SELECT count(*)::int AS depth, min(created_at) AS oldest
      FROM webhooks.deliveries WHERE status IN ('pending', 'failed')`
      .execute(db)
      .then((r) => r.rows[0]);
    return row ?? { depth: 0, oldest: null };
  };
  return {
    deliveries: new Counter({
      name: 'webhook_delivery_attempts_total',
      help: 'Delivery attempts by outcome: succeeded, failed (will retry), dead (retries spent), disabled (410 Gone)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    attemptDuration: new Histogram({
      name: 'webhook_attempt_duration_seconds',
      help: 'Duration of outgoing webhook requests (event deliveries and digests)',
      labelNames: ['kind'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    tasks: new Counter({
      name: 'webhook_digest_attempts_total',
      help: 'Digest task attempts by outcome: succeeded, retrying, failed',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    intake: new Counter({
      name: 'webhook_intake_events_total',
      help: 'Integration events taken from JetStream and committed',
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'webhook_deliveries_unfinished',
      help: 'Deliveries pending or failed-and-retrying (queue depth)',
      registers: [registry],
      async collect() {
        this.set((await unfinished()).depth);
      },
    }),
    oldestPendingAge: new Gauge({
      name: 'webhook_oldest_unfinished_delivery_age_seconds',
      help: 'Age of the oldest pending or retrying delivery: the lag to alert on (0 when none)',
      registers: [registry],
      async collect() {
        const { oldest } = await unfinished();
        this.set(oldest === null ? 0 : Math.max(0, (Date.now() - oldest.getTime()) / 1000));
      },
    }),
  };
}

export type DispatcherMetrics = ReturnType<typeof createDispatcherMetrics>;
