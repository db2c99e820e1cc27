import type { DispatcherContext } from '../core/deps.ts';
import { scheduleDigest } from '../core/jobs.ts';
import { afterFailure } from '../delivery/retryPolicy.ts';
import { parseRetryAfter } from '../delivery/retryPolicy.ts';
import { outcomeError, judge } from '../delivery/drainSubscription.ts';
import { webhookHeaders } from '../delivery/signature.ts';
import { shortError, type SendOutcome } from '../delivery/webhookClient.ts';
import type { QueryApi } from './queryApi.ts';

/** The digest holds the latest 20 tweets and the first 20 followers, as hookme's did. */
export const digestPageSize = 20;

/**
 * One attempt of a digest task: read the user, their latest tweets and first followers from the
 * query service, and POST them to the task's webhook. A failure of either step counts as an
 * attempt and is retried with the deliveries' backoff; when the retries are spent the task fails
 * and its username is free again. The task row is marked `running` (committed) before anything is
 * sent, so a crash leaves a task that the next run simply attempts again.
 */
export async function runDigest(
  ctx: DispatcherContext,
  queryApi: QueryApi,
  taskId: string,
): Promise<void> {
  const task = await ctx.db
    .updateTable('webhooks.tasks')
    .set((eb) => ({ status: 'running', attempts: eb('attempts', '+', 1) }))
    .where('id', '=', taskId)
    .where('status', 'in', ['scheduled', 'running', 'retrying'])
    .returningAll()
    .executeTakeFirst();
  if (!task) return; // finished already (a repeated job after a crash)
  const startedAt = ctx.clock();
  const target = task.webhook_url ?? ctx.config.WEBHOOK_URL;
  let outcome: SendOutcome | null = null;
  let failure: string | null = null;
  let permanent = false;
  try {
    if (target === undefined) {
      failure = 'no webhookUrl in the task and WEBHOOK_URL is not set';
      permanent = true;
    } else {
      const user = await queryApi.userByUsername(task.username, task.min_position);
      if (user === null) {
        failure = `user ${task.username} no longer exists`;
        permanent = true;
      } else {
        const userId = String(user.id);
        const [tweets, followers] = await Promise.all([
          queryApi.latestTweets(userId, digestPageSize, task.min_position),
          queryApi.firstFollowers(userId, digestPageSize, task.min_position),
        ]);
        const body = JSON.stringify({
          type: 'user.digest',
          timestamp: ctx.clock().toISOString(),
          data: { user, tweets, followers },
        });
        // webhook-id = the task id: the same on every retry, so a receiver can drop repeats.
        outcome = await ctx.webhooks.post(
          target,
          webhookHeaders(task.id, ctx.clock(), body, ctx.config.WEBHOOK_SECRET),
          body,
        );
        ctx.metrics.attemptDuration.observe({ kind: 'digest' }, outcome.durationMs / 1000);
        failure = outcomeError(outcome);
      }
    }
  } catch (error) {
    failure = shortError(error);
  }
  const succeeded = failure === null;
  const durationMs = outcome?.durationMs ?? ctx.clock().getTime() - startedAt.getTime();
  const retryAfterMs =
    outcome?.kind === 'response' && (outcome.statusCode === 429 || outcome.statusCode === 503)
      ? parseRetryAfter(outcome.retryAfter, startedAt)
      : null;
  const next =
    succeeded || permanent || (outcome !== null && judge(outcome) === 'gone')
      ? ({ retry: false } as const)
      : afterFailure(
          {
            firstDelayMs: ctx.config.RESCHEDULE_INTERVAL,
            maxRetries: ctx.config.RETRY_MAX_ATTEMPTS,
          },
          task.attempts,
          retryAfterMs,
        );
  const now = ctx.clock();
  await ctx.db.transaction().execute(async (trx) => {
    await trx
      .insertInto('webhooks.attempts')
      .values({
        task_id: task.id,
        attempted_at: startedAt,
        status_code: outcome?.kind === 'response' ? outcome.statusCode : null,
        error: failure,
        duration_ms: durationMs,
      })
      .execute();
    if (succeeded) {
      await trx
        .updateTable('webhooks.tasks')
        .set({ status: 'succeeded', last_error: null, finished_at: now })
        .where('id', '=', task.id)
        .execute();
    } else if (next.retry) {
      const runAt = new Date(now.getTime() + next.delayMs);
      await trx
        .updateTable('webhooks.tasks')
        .set({ status: 'retrying', last_error: failure, run_at: runAt })
        .where('id', '=', task.id)
        .execute();
      // In the same transaction: a crash cannot leave a retrying task without its job.
      await scheduleDigest(trx, task.id, runAt);
    } else {
      await trx
        .updateTable('webhooks.tasks')
        .set({ status: 'failed', last_error: failure, finished_at: now })
        .where('id', '=', task.id)
        .execute();
    }
  });
  ctx.metrics.tasks.inc({ outcome: succeeded ? 'succeeded' : next.retry ? 'retrying' : 'failed' });
}
