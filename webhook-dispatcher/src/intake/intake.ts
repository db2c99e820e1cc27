import { natsNames, type NatsConnection } from '@tweeter/shared';
import { sql } from 'kysely';
import {
  AckPolicy,
  DeliverPolicy,
  nanos,
  type Consumer,
  type ConsumerMessages,
  type JsMsg,
} from 'nats';
import type { DispatcherContext } from '../core/deps.ts';
import { scheduleDrains } from '../core/jobs.ts';
import { publicEventSchema, subjectUserOf, type PublicEvent } from './publicEvents.ts';

/** The durable consumer all dispatcher processes share (JetStream spreads messages among them). */
export const consumerName = 'webhook-dispatcher';
/** Largest batch committed in one transaction. */
const maxBatch = 200;
/** How long one pull request waits on the server (idle heartbeats every half of it). */
const pullExpiresMs = 5000;

/**
 * Takes the integration events from JetStream and turns each into the deliveries of every
 * matching subscription, in one transaction per batch together with their jobs; messages are
 * acknowledged only after the commit. A message seen again (a redelivery after a crash between
 * commit and ack) finds its deliveries there already (unique per subscription and event) and
 * creates nothing. While PostgreSQL is down the same batch is retried in order, and nothing later
 * is taken meanwhile, so deliveries keep their event order.
 */
export class Intake {
  private messages: ConsumerMessages | undefined;
  private readonly buffer: JsMsg[] = [];
  private wake: (() => void) | undefined;
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly ctx: DispatcherContext,
    private readonly nc: NatsConnection,
    private readonly natsPrefix: string,
  ) {}

  start(): void {
    this.loop = this.run().catch((error: unknown) => {
      this.ctx.logger.error({ err: error }, 'intake stopped');
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.messages?.close().catch(() => undefined);
    await this.loop;
  }

  private async run(): Promise<void> {
    const consumer = await this.consumer();
    if (!consumer) return;
    this.messages = await consumer.consume({
      max_messages: 1000,
      // Each pull lives 5 s with a heartbeat every 2.5 s. A pull is not replicated: when the
      // consumer's leader dies (a killed server of a cluster), the client notices the missing
      // heartbeats within ~5 s and pulls again from the new leader, instead of after 30 s.
      expires: pullExpiresMs,
      callback: (message) => {
        this.buffer.push(message);
        this.wake?.();
      },
    });
    while (!this.stopped) {
      if (this.buffer.length === 0) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
      const batch = this.buffer.splice(0, maxBatch);
      await this.commitWithRetry(batch);
      if (this.stopped) return;
      for (const message of batch) message.ack();
    }
  }

  /** The durable consumer, created on first start; waits while the stream does not exist yet. */
  private async consumer(): Promise<Consumer | null> {
    const { stream, subjectPrefix } = natsNames(this.natsPrefix);
    const jsm = await this.nc.jetstreamManager();
    let waitingLogged = false;
    while (!this.stopped) {
      try {
        await jsm.consumers.info(stream, consumerName).catch(async (error: Error) => {
          if (/stream not found/i.test(error.message)) throw error;
          // New consumer: start at the oldest live subscription — nothing older can match one.
          const oldest = await this.ctx.db
            .selectFrom('webhooks.subscriptions')
            .select((eb) => eb.fn.min('created_at').as('oldest'))
            .where('deleted_at', 'is', null)
            .executeTakeFirst();
          const start = oldest?.oldest ? new Date(oldest.oldest) : this.ctx.clock();
          // No num_replicas: the consumer has the stream's replica count (NATS_STREAM_REPLICAS,
          // set by the projector), and follows it when the stream's count changes.
          await jsm.consumers.add(stream, {
            durable_name: consumerName,
            ack_policy: AckPolicy.Explicit,
            deliver_policy: DeliverPolicy.StartTime,
            opt_start_time: start.toISOString(),
            filter_subject: `${subjectPrefix}.>`,
            ack_wait: nanos(30_000),
            max_ack_pending: 5000,
          });
        });
        return await this.nc.jetstream().consumers.get(stream, consumerName);
      } catch (error) {
        const message = (error as Error).message;
        if (/stream not found/i.test(message)) {
          if (!waitingLogged)
            this.ctx.logger.info({ stream }, 'waiting for the integration-events stream');
          waitingLogged = true;
        } else if (!/already in use|exists/i.test(message)) {
          // NATS unreachable, or a cluster without a JetStream leader for the moment (a killed
          // server, an election): try again rather than leave the intake stopped.
          this.ctx.logger.warn({ err: error, stream }, 'intake could not reach its consumer yet');
        }
        await sleep(1000);
      }
    }
    return null;
  }

  private async commitWithRetry(batch: JsMsg[]): Promise<void> {
    for (let failures = 0; !this.stopped; failures++) {
      try {
        await this.commit(batch);
        return;
      } catch (error) {
        const delay = Math.min(10_000, 250 * 2 ** failures);
        this.ctx.logger.warn({ err: error, retryInMs: delay }, 'intake could not commit a batch');
        // Tell JetStream the messages are still being worked on, so they are not sent elsewhere.
        for (const message of batch) message.working();
        await sleep(delay);
      }
    }
  }

  private async commit(batch: JsMsg[]): Promise<void> {
    const events: (PublicEvent & { seq: number; subject: string | null })[] = [];
    const seen = new Set<string>();
    for (const message of batch) {
      const parsed = parseMessage(message);
      if (!parsed) {
        this.ctx.logger.error(
          { subject: message.subject, seq: message.seq },
          'integration event is not in the published format; skipped',
        );
        continue;
      }
      if (seen.has(parsed.id)) continue;
      seen.add(parsed.id);
      events.push({ ...parsed, seq: message.info.streamSequence, subject: subjectUserOf(parsed) });
    }
    if (events.length === 0) return;
    await this.ctx.db.transaction().execute(async (trx) => {
      const { rows: matches } = await sql<{ event_id: string; subscription_id: string }>`
        SELECT e.id AS event_id, s.id AS subscription_id
        FROM unnest(${events.map((e) => e.id)}::uuid[], ${events.map((e) => e.type)}::text[],
                    ${events.map((e) => e.subject)}::uuid[], ${events.map((e) => e.seq)}::bigint[],
                    ${events.map((e) => e.occurredAt)}::timestamptz[])
             AS e(id, type, subject, seq, occurred_at)
        JOIN webhooks.subscriptions s
          ON s.deleted_at IS NULL AND s.disabled_at IS NULL
         AND e.type = ANY (s.events)
         AND (s.user_ids IS NULL OR e.subject = ANY (s.user_ids))
         -- A subscription receives the events that occurred once it existed.
         AND s.created_at <= e.occurred_at
        ORDER BY e.seq, s.id`.execute(trx);
      if (matches.length === 0) return;
      const matchedIds = new Set(matches.map((m) => m.event_id));
      const matched = events.filter((e) => matchedIds.has(e.id));
      await sql`
        INSERT INTO webhooks.events (id, seq, type, occurred_at, data)
        SELECT * FROM unnest(${matched.map((e) => e.id)}::uuid[], ${matched.map((e) => e.seq)}::bigint[],
                             ${matched.map((e) => e.type)}::text[],
                             ${matched.map((e) => e.occurredAt)}::timestamptz[],
                             ${matched.map((e) => JSON.stringify(e.data))}::jsonb[])
        ON CONFLICT (id) DO NOTHING`.execute(trx);
      const seqOf = new Map(matched.map((e) => [e.id, e.seq]));
      const { rows: created } = await sql<{ subscription_id: string }>`
        INSERT INTO webhooks.deliveries (id, subscription_id, event_id, event_seq, status)
        SELECT id, subscription_id, event_id, event_seq, 'pending'
        FROM unnest(${matches.map(() => this.ctx.ids())}::uuid[],
                    ${matches.map((m) => m.subscription_id)}::uuid[],
                    ${matches.map((m) => m.event_id)}::uuid[],
                    ${matches.map((m) => seqOf.get(m.event_id) ?? 0)}::bigint[])
             AS d(id, subscription_id, event_id, event_seq)
        ON CONFLICT (subscription_id, event_id) DO NOTHING
        RETURNING subscription_id`.execute(trx);
      await scheduleDrains(
        trx,
        created.map((r) => r.subscription_id),
        { kind: 'soon' },
      );
    });
    this.ctx.metrics.intake.inc(events.length);
  }
}

function parseMessage(message: JsMsg): PublicEvent | null {
  try {
    const result = publicEventSchema.safeParse(message.json());
    return result.success ? result.data : null;
  } catch {
    return null;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
