import { sql } from 'kysely';
import type { DispatcherContext } from '../core/deps.ts';
import { scheduleDrains } from '../core/jobs.ts';
import { afterFailure, parseRetryAfter, type RetryPolicy } from './retryPolicy.ts';
import { webhookHeaders } from './signature.ts';
import type { SendOutcome } from './webhookClient.ts';

/** How many unfinished deliveries one read brings in; the job sends them one after another. */
const batchSize = 100;

interface PendingDelivery {
  id: string;
  attempts: number;
  round_start: number;
  next_attempt_at: Date | null;
  type: string;
  occurred_at: Date;
  data: unknown;
}

/** What one attempt came to, as the drain needs it. */
export type AttemptResult =
  { kind: 'succeeded' } | { kind: 'retry'; at: Date } | { kind: 'dead' } | { kind: 'gone' };

/** How a response or an error is judged: a 2xx succeeds; 410 disables; anything else fails. */
export function judge(outcome: SendOutcome): 'success' | 'gone' | 'failure' {
  if (outcome.kind === 'error') return 'failure';
  if (outcome.statusCode >= 200 && outcome.statusCode < 300) return 'success';
  if (outcome.statusCode === 410) return 'gone';
  return 'failure';
}

export const outcomeError = (outcome: SendOutcome): string | null =>
  outcome.kind === 'error'
    ? outcome.error
    : outcome.statusCode >= 200 && outcome.statusCode < 300
      ? null
      : outcome.statusCode >= 300 && outcome.statusCode < 400
        ? `HTTP ${outcome.statusCode} (redirects are not followed)`
        : `HTTP ${outcome.statusCode}`;

/**
 * The job of one subscription: sends its unfinished deliveries oldest event first, one at a time.
 * A delivery that fails holds the later ones: the job stops and schedules itself for that
 * delivery's next try. A dead one (retries spent) no longer holds anything. Only this job writes
 * the state of an unfinished delivery, and only one runs per subscription (its named queue), so
 * there are no races between two senders.
 */
export async function drainSubscription(
  ctx: DispatcherContext,
  subscriptionId: string,
): Promise<void> {
  const subscription = await ctx.db
    .selectFrom('webhooks.subscriptions')
    .select(['id', 'url', 'secret', 'disabled_at', 'deleted_at'])
    .where('id', '=', subscriptionId)
    .executeTakeFirst();
  if (!subscription || subscription.deleted_at !== null) return;
  if (subscription.disabled_at !== null) {
    await buryUnfinished(ctx, subscriptionId, 'subscription disabled: the receiver answered 410');
    return;
  }
  const policy: RetryPolicy = {
    firstDelayMs: ctx.config.RESCHEDULE_INTERVAL,
    maxRetries: ctx.config.RETRY_MAX_ATTEMPTS,
  };
  // Attempt records are written in batches (AttemptRecorder) while the next requests go out;
  // they are awaited before the next read and before any reschedule.
  let records: Promise<void>[] = [];
  const recorded = async () => {
    const pending = records;
    records = [];
    await Promise.all(pending);
  };
  try {
    for (;;) {
      await recorded();
      const { rows } = await sql<PendingDelivery>`
        SELECT d.id, d.attempts, d.round_start, d.next_attempt_at, e.type, e.occurred_at, e.data
        FROM webhooks.deliveries d JOIN webhooks.events e ON e.id = d.event_id
        WHERE d.subscription_id = ${subscriptionId} AND d.status IN ('pending', 'failed')
        ORDER BY d.event_seq, d.id
        LIMIT ${batchSize}`.execute(ctx.db);
      if (rows.length === 0) return;
      for (const delivery of rows) {
        if (delivery.next_attempt_at !== null && delivery.next_attempt_at > ctx.clock()) {
          await recorded();
          await scheduleDrains(ctx.db, [subscriptionId], {
            kind: 'at',
            runAt: delivery.next_attempt_at,
          });
          return;
        }
        const sent = await attempt(ctx, subscription, delivery, policy);
        records.push(sent.record());
        const result = sent.result;
        switch (result.kind) {
          case 'succeeded':
          case 'dead':
            continue;
          case 'retry':
            await recorded();
            await scheduleDrains(ctx.db, [subscriptionId], { kind: 'at', runAt: result.at });
            return;
          case 'gone':
            await recorded();
            await buryUnfinished(
              ctx,
              subscriptionId,
              'subscription disabled: the receiver answered 410',
            );
            return;
          default:
            return result satisfies never;
        }
      }
    }
  } finally {
    await Promise.allSettled(records);
  }
}

async function attempt(
  ctx: DispatcherContext,
  subscription: { id: string; url: string; secret: string },
  delivery: PendingDelivery,
  policy: RetryPolicy,
): Promise<{ result: AttemptResult; record: () => Promise<void> }> {
  const body = JSON.stringify({
    type: delivery.type,
    timestamp: delivery.occurred_at.toISOString(),
    data: delivery.data,
  });
  const sentAt = ctx.clock();
  const outcome = await ctx.webhooks.post(
    subscription.url,
    webhookHeaders(delivery.id, sentAt, body, subscription.secret),
    body,
  );
  ctx.metrics.attemptDuration.observe({ kind: 'event' }, outcome.durationMs / 1000);
  const verdict = judge(outcome);
  const attempts = delivery.attempts + 1;
  const statusCode = outcome.kind === 'response' ? outcome.statusCode : null;
  const error = outcomeError(outcome);
  let result: AttemptResult;
  let status: 'succeeded' | 'failed' | 'dead';
  let nextAttemptAt: Date | null = null;
  switch (verdict) {
    case 'success':
      result = { kind: 'succeeded' };
      status = 'succeeded';
      break;
    case 'gone':
      result = { kind: 'gone' };
      status = 'dead';
      break;
    case 'failure': {
      const retryAfterMs =
        outcome.kind === 'response' && (outcome.statusCode === 429 || outcome.statusCode === 503)
          ? parseRetryAfter(outcome.retryAfter, sentAt)
          : null;
      const next = afterFailure(policy, attempts - delivery.round_start, retryAfterMs);
      if (next.retry) {
        nextAttemptAt = new Date(ctx.clock().getTime() + next.delayMs);
        result = { kind: 'retry', at: nextAttemptAt };
        status = 'failed';
      } else {
        result = { kind: 'dead' };
        status = 'dead';
      }
      break;
    }
    default:
      throw new Error(`unexpected verdict ${String(verdict satisfies never)}`);
  }
  const record = async () => {
    await ctx.recorder.record({
      deliveryId: delivery.id,
      status,
      attempts,
      nextAttemptAt,
      statusCode,
      error,
      deliveredAt: status === 'succeeded' ? ctx.clock() : null,
      attemptedAt: sentAt,
      durationMs: outcome.durationMs,
    });
    if (verdict === 'gone') {
      await ctx.db
        .updateTable('webhooks.subscriptions')
        .set({ disabled_at: ctx.clock() })
        .where('id', '=', subscription.id)
        .where('disabled_at', 'is', null)
        .execute();
      ctx.logger.warn(
        { subscriptionId: subscription.id },
        'receiver answered 410 Gone; subscription disabled',
      );
    }
    ctx.metrics.deliveries.inc({ outcome: verdict === 'gone' ? 'disabled' : status });
  };
  return { result, record };
}

/** A disabled subscription's unfinished deliveries will never go out: say so on each. */
async function buryUnfinished(ctx: DispatcherContext, subscriptionId: string, reason: string) {
  await ctx.db
    .updateTable('webhooks.deliveries')
    .set({ status: 'dead', next_attempt_at: null, last_error: reason })
    .where('subscription_id', '=', subscriptionId)
    .where('status', 'in', ['pending', 'failed'])
    .execute();
}
