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
  const runAt = when.kind === 'at' ? when.runAt : null;
  const mode = when.kind === 'at' ? 'replace' : 'preserve_run_at';
  let unscheduled = [...new Set(subscriptionIds)];
  // add_job adds nothing (and returns NULL) when a worker locks the keyed job while add_job runs:
  // its key is cleared only for jobs that were locked before (graphile/worker#580). The job
  // already running read its deliveries before ours committed, so without a successor they would
  // wait for the next event. Called again, add_job sees the job locked and adds the successor.
  for (let round = 0; unscheduled.length > 0; round++) {
    if (round === 5)
      throw new Error(`could not schedule the drain of ${unscheduled.length} subscription(s)`);
    const { rows } = await sql<{ s: string }>`
      SELECT s FROM unnest(${unscheduled}::uuid[]) AS s
      CROSS JOIN LATERAL ${sql.id(workerSchema)}.add_job(
        ${drainSubscriptionTask},
        json_build_object('subscriptionId', s),
        queue_name => 'sub:' || s,
        run_at => ${runAt}::timestamptz,
        max_attempts => ${jobMaxAttempts},
        job_key => 'sub:' || s,
        job_key_mode => ${mode}) AS job
      WHERE job.id IS NULL`.execute(db);
    unscheduled = rows.map((r) => r.s);
  }
}

/**
 * The safety net under `scheduleDrains`: subscriptions with unfinished deliveries (older than
 * `graceMs`, so that intake transactions in flight are not counted) and no drain job at all get
 * one. Nothing should ever be found; the dispatcher logs it when something is.
 */
export async function scheduleStrandedDrains(db: Db, graceMs = 10_000): Promise<string[]> {
  const { rows } = await sql<{ subscription_id: string }>`
    SELECT DISTINCT d.subscription_id
    FROM webhooks.deliveries d
    JOIN webhooks.subscriptions s ON s.id = d.subscription_id AND s.deleted_at IS NULL
    WHERE d.status IN ('pending', 'failed')
      AND d.created_at < now() - make_interval(secs => ${graceMs / 1000})
      AND NOT EXISTS (
        SELECT 1 FROM ${sql.id(workerSchema)}.jobs j WHERE j.key = 'sub:' || d.subscription_id)`.execute(
    db,
  );
  const stranded = rows.map((r) => r.subscription_id);
  await scheduleDrains(db, stranded, { kind: 'soon' });
  return stranded;
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
