import { sql, type Kysely, type Transaction } from 'kysely';
import type { DispatcherDatabase } from './tables.ts';

/** graphile-worker's schema in the dispatcher's database (its own, beside `webhooks`). */
export const workerSchema = 'webhook_worker';

export const drainSubscriptionTask = 'drain-subscription';
export const runDigestTask = 'run-digest';

/** Job failures that graphile-worker itself retries (a database outage in the middle of a job). */
const jobMaxAttempts = 25;

type Db = Kysely<DispatcherDatabase> | Transaction<DispatcherDatabase>;

/**
 * Makes sure the drain job of each subscription will run. One job per subscription: its job key
 * and its named queue are the subscription id, so one subscription's deliveries are sent one at a
 * time, in order, by whichever process takes the job.
 *
 * - `soon` (intake, redeliver): keeps the run time of a waiting job (`preserve_run_at`), so new
 *   events never cut short the backoff of the failing delivery that holds the queue; when no job
 *   waits, one is added for now. A job already running gets a successor, which the queue holds
 *   until it finishes.
 * - `at` (the drain itself): sets the waiting job's run time to the failing delivery's next try.
 */
export async function scheduleDrains(
  db: Db,
  subscriptionIds: readonly string[],
  when: { kind: 'soon' } | { kind: 'at'; runAt: Date },
): Promise<void> {
  if (subscriptionIds.length === 0) return;
  const runAt = when.kind === 'at' ? when.runAt : null;
  const mode = when.kind === 'at' ? 'replace' : 'preserve_run_at';
  await sql`
    SELECT ${sql.id(workerSchema)}.add_job(
      ${drainSubscriptionTask},
      json_build_object('subscriptionId', s),
      queue_name => 'sub:' || s,
      run_at => ${runAt}::timestamptz,
      max_attempts => ${jobMaxAttempts},
      job_key => 'sub:' || s,
      job_key_mode => ${mode})
    FROM unnest(${[...new Set(subscriptionIds)]}::uuid[]) AS s`.execute(db);
}

/** The one job of a digest task, at its next run time (key `task:<id>` keeps it single). */
export async function scheduleDigest(db: Db, taskId: string, runAt: Date): Promise<void> {
  await sql`
    SELECT ${sql.id(workerSchema)}.add_job(
      ${runDigestTask},
      json_build_object('taskId', ${taskId}::text),
      run_at => ${runAt}::timestamptz,
      max_attempts => ${jobMaxAttempts},
      job_key => ${`task:${taskId}`},
      job_key_mode => 'replace')`.execute(db);
}
