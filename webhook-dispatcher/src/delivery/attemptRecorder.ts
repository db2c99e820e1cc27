import { sql, type Kysely } from 'kysely';
import type { DispatcherDatabase } from '../core/tables.ts';

/** The outcome of one attempt, as it is written to the delivery and to its attempt record. */
export interface AttemptRecord {
  deliveryId: string;
  status: 'succeeded' | 'failed' | 'dead';
  attempts: number;
  nextAttemptAt: Date | null;
  statusCode: number | null;
  error: string | null;
  deliveredAt: Date | null;
  attemptedAt: Date;
  durationMs: number;
}

/**
 * Writes attempt outcomes in batches: every drain job hands its records here and goes on sending;
 * one statement writes whatever gathered while the previous one was running (group commit of the
 * dispatcher's own making). A job waits for its records before it reads more deliveries or
 * reschedules itself, so its view of the queue is never stale. A dispatcher crash loses at most
 * the records still in flight: those deliveries go out again with the same webhook-id, which
 * at-least-once delivery allows and receivers deduplicate on.
 */
export class AttemptRecorder {
  private queue: { record: AttemptRecord; done: () => void; failed: (e: unknown) => void }[] = [];
  private flushing = false;

  constructor(private readonly db: Kysely<DispatcherDatabase>) {}

  record(record: AttemptRecord): Promise<void> {
    return new Promise((done, failed) => {
      this.queue.push({ record, done, failed });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, 1000);
      const rows = batch.map((b) => b.record);
      try {
        await sql`
          WITH input AS (
            SELECT * FROM unnest(
              ${rows.map((r) => r.deliveryId)}::uuid[], ${rows.map((r) => r.status)}::text[],
              ${rows.map((r) => r.attempts)}::int[], ${rows.map((r) => r.nextAttemptAt)}::timestamptz[],
              ${rows.map((r) => r.statusCode)}::int[], ${rows.map((r) => r.error)}::text[],
              ${rows.map((r) => r.deliveredAt)}::timestamptz[], ${rows.map((r) => r.attemptedAt)}::timestamptz[],
              ${rows.map((r) => r.durationMs)}::real[])
            AS t(id, status, attempts, next_attempt_at, status_code, error, delivered_at, attempted_at, duration_ms)),
          updated AS (
            UPDATE webhooks.deliveries d SET
              status = i.status, attempts = i.attempts, next_attempt_at = i.next_attempt_at,
              last_status_code = i.status_code, last_error = i.error,
              delivered_at = coalesce(i.delivered_at, d.delivered_at)
            FROM input i WHERE d.id = i.id
            RETURNING d.id)
          INSERT INTO webhooks.attempts (delivery_id, attempted_at, status_code, error, duration_ms)
          SELECT id, attempted_at, status_code, error, duration_ms FROM input`.execute(this.db);
        for (const b of batch) b.done();
      } catch (error) {
        for (const b of batch) b.failed(error);
      }
    }
    this.flushing = false;
  }
}
