import {
  headers,
  nanos,
  NatsError,
  type JetStreamClient,
  type JetStreamManager,
  type NatsConnection,
  type PubAck,
} from 'nats';
import type pg from 'pg';
import { sql } from 'kysely';
import {
  connectNats,
  createKysely,
  lockSchemaInTransaction,
  natsNames,
  type DecodedEvent,
  type Logger,
  type Position,
} from '@tweeter/shared';
import { CheckpointMovedError, type Projection } from '../runtime/projection.ts';
import { subjectOf, toPublicEvent } from './publicEvent.ts';

export interface IntegrationEventsOptions {
  /** NATS_URL: one server or a cluster's comma-separated list. */
  natsUrl: string;
  /**
   * NATS_STREAM_REPLICAS: the stream is created with it and an existing stream is changed to it;
   * undefined creates it with 1 and leaves an existing stream's count alone.
   */
  replicas?: number | undefined;
  /** NATS_PREFIX: stream and subject names (natsNames). */
  natsPrefix: string;
  /** Holds the checkpoint table `projections.checkpoints`. */
  pool: pg.Pool;
  logger: Logger;
  /** How long a publish waits for its ack before the batch is retried. */
  publishTimeoutMs?: number;
}

/** Re-publishes within this window after a crash are dropped by the broker (Nats-Msg-Id). */
export const duplicateWindowMs = 10 * 60_000;

const encoder = new TextEncoder();

/**
 * A batch the stream did not take whole and in order (a server or stream leader went away, an
 * election is under way, a publish of the batch was lost): it is published again from the
 * checkpoint. It carries nats.js' no-responders code, which the projector's runner waits on.
 */
export class PublishInterruptedError extends Error {
  override name = 'NatsError';
  readonly code = '503';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** JetStream's `wrong last msg ID` (Nats-Expected-Last-Msg-Id did not hold). */
const wrongLastMsgId = 10070;

/**
 * `integration-events` → NATS JetStream. A batch is published concurrently (in order on one
 * connection), and the checkpoint is written in PostgreSQL once every publish is acked. A crash in
 * between publishes the batch again; `Nats-Msg-Id` = event id makes the broker drop the repeats.
 *
 * The stream holds the log's catalogue events in log order, each once. Concurrent publishes alone
 * could break the order when a publish is lost while later ones land (a killed server, a stream
 * leader election on a cluster): so the batch's first event is published on its own, and every
 * later one with `Nats-Expected-Last-Msg-Id` = its predecessor's event id. A message after a lost
 * (or a foreign) one is then refused rather than stored out of order, and the batch is published
 * again: the broker answers the ones it has as duplicates (it checks the message id before the
 * expectation) and takes the rest in order. Every replica tracks the last message id as it
 * applies, and rebuilds it at start, so a new stream leader holds the same chain.
 */
export class IntegrationEventsProjection implements Projection {
  readonly name = 'integration-events' as const;
  readonly copy: string;
  private readonly subjectPrefix: string;
  private nc: NatsConnection | undefined;
  private js: JetStreamClient | undefined;

  constructor(private readonly options: IntegrationEventsOptions) {
    const names = natsNames(options.natsPrefix);
    this.copy = names.stream;
    this.subjectPrefix = names.subjectPrefix;
  }

  private async connection(): Promise<NatsConnection> {
    if (this.nc && !this.nc.isClosed()) return this.nc;
    // Throws while NATS is down: the runner waits and tries again, the other projections go on.
    this.nc = await connectNats(this.options.natsUrl, 'tweeter-projector');
    this.js = this.nc.jetstream();
    return this.nc;
  }

  async setup(): Promise<void> {
    await createKysely(this.options.pool)
      .transaction()
      .execute(async (tx) => {
        // Under the schema-change lock: one starter creates it, the others find it.
        await lockSchemaInTransaction(tx);
        await sql`CREATE SCHEMA IF NOT EXISTS projections`.execute(tx);
        await sql`
          CREATE TABLE IF NOT EXISTS projections.checkpoints (
            projection text NOT NULL, copy text NOT NULL, position text,
            updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (projection, copy))`.execute(
          tx,
        );
      });
    await this.options.pool.query(
      `INSERT INTO projections.checkpoints (projection, copy) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
      [this.name, this.copy],
    );
    const nc = await this.connection();
    await this.ensureStream(await nc.jetstreamManager());
  }

  /** Creates the stream, or brings an existing one to NATS_STREAM_REPLICAS when that is set. */
  private async ensureStream(jsm: JetStreamManager): Promise<void> {
    const { replicas, logger } = this.options;
    let existing;
    try {
      existing = await jsm.streams.info(this.copy);
    } catch (error) {
      if (!/stream not found/i.test((error as Error).message)) throw error;
    }
    if (!existing) {
      try {
        await jsm.streams.add({
          name: this.copy,
          subjects: [`${this.subjectPrefix}.>`],
          duplicate_window: nanos(duplicateWindowMs),
          num_replicas: replicas ?? 1,
        });
        return;
      } catch (addError) {
        const message = (addError as Error).message;
        if (/replicas > 1 not supported/i.test(message))
          throw new Error(
            `NATS_STREAM_REPLICAS=${String(replicas)} needs a JetStream cluster, but the NATS server is not clustered (${message}): set NATS_STREAM_REPLICAS=1 or point NATS_URL at a cluster`,
            { cause: addError },
          );
        if (!/already in use|exists/i.test(message)) throw addError;
        existing = await jsm.streams.info(this.copy); // another starter created it meanwhile
      }
    }
    const current = existing.config.num_replicas || 1;
    if (replicas === undefined || current === replicas) return;
    // JetStream moves a clustered stream to another replica count in place (and its consumers
    // that follow the stream's count with it); the messages and their ids stay.
    try {
      await jsm.streams.update(this.copy, { ...existing.config, num_replicas: replicas });
      logger.warn(
        { stream: this.copy, from: current, to: replicas },
        'integration-events stream replica count changed to NATS_STREAM_REPLICAS',
      );
    } catch (error) {
      // Publishing still works on the stream as it is: say so loudly and carry on.
      logger.error(
        { err: error, stream: this.copy, replicas: current, wanted: replicas },
        `integration-events stream keeps ${current} replica(s): NATS refused to change it to NATS_STREAM_REPLICAS=${replicas}`,
      );
    }
  }

  async checkpoint(): Promise<Position | null> {
    const { rows } = await this.options.pool.query<{ position: Position | null }>(
      `SELECT position FROM projections.checkpoints WHERE projection = $1 AND copy = $2`,
      [this.name, this.copy],
    );
    return rows[0]?.position ?? null;
  }

  async apply(events: DecodedEvent[], upTo: Position, from: Position | null): Promise<void> {
    if (events.length > 0) await this.publishInOrder(events);
    const result = await this.options.pool.query(
      `UPDATE projections.checkpoints SET position = $3, updated_at = now()
       WHERE projection = $1 AND copy = $2 AND position IS NOT DISTINCT FROM $4`,
      [this.name, this.copy, upTo, from],
    );
    if (result.rowCount !== 1)
      throw new CheckpointMovedError(this.name, from, await this.checkpoint());
  }

  /** Publishes the batch so that the stream takes it whole and in order, or throws. */
  private async publishInOrder(events: DecodedEvent[]): Promise<void> {
    await this.connection();
    const js = this.js!;
    const timeout = this.options.publishTimeoutMs ?? 5000;
    const publish = (event: DecodedEvent, previous?: DecodedEvent): Promise<PubAck> => {
      const h = headers();
      h.set('Tweeter-Position', event.position);
      return js.publish(
        subjectOf(this.subjectPrefix, event),
        encoder.encode(JSON.stringify(toPublicEvent(event))),
        {
          msgID: event.id,
          headers: h,
          timeout,
          ...(previous ? { expect: { lastMsgID: previous.id } } : {}),
        },
      );
    };
    const [first, ...rest] = events;
    // Alone, so nothing can land before it.
    await publish(first!).catch((error: unknown) => {
      throw interrupted(error, first!);
    });
    const results = await Promise.allSettled(
      rest.map((event, index) => publish(event, events[index])),
    );
    const failed = results.findIndex((result) => result.status === 'rejected');
    if (failed === -1) return;
    const reason: unknown = (results[failed] as PromiseRejectedResult).reason;
    if (apiErrorCode(reason) === wrongLastMsgId)
      this.options.logger.warn(
        { stream: this.copy, event: rest[failed]!.id, position: rest[failed]!.position },
        'integration-events: the stream does not end with the event before this one (a lost publish, a new stream leader, or another publisher); publishing the batch again',
      );
    throw interrupted(reason, rest[failed]!);
  }

  /** Empties the stream and forgets the checkpoint: everything is published again. */
  async reset(): Promise<void> {
    await this.setup();
    const jsm = await (await this.connection()).jetstreamManager();
    await jsm.streams.purge(this.copy);
    await this.options.pool.query(
      `UPDATE projections.checkpoints SET position = NULL WHERE projection = $1 AND copy = $2`,
      [this.name, this.copy],
    );
  }

  async close(): Promise<void> {
    const nc = this.nc;
    this.nc = undefined;
    await nc?.close().catch(() => undefined);
  }
}

const apiErrorCode = (error: unknown): number | undefined =>
  error instanceof NatsError ? error.api_error?.err_code : undefined;

/**
 * A failed publish as the runner should see it: JetStream refusing for now (a 5xx such as
 * `JetStream system temporarily unavailable`, or a broken chain) becomes a PublishInterruptedError
 * to wait on; nats.js' own timeouts and disconnects stay as they are (the runner waits on them);
 * anything else (e.g. a message too large) is about the event and stays as it is too.
 */
function interrupted(error: unknown, event: DecodedEvent): unknown {
  if (!(error instanceof NatsError) || !error.api_error) return error;
  const { code, err_code: errCode } = error.api_error;
  if (errCode !== wrongLastMsgId && code < 500) return error;
  return new PublishInterruptedError(
    `JetStream did not take event ${event.id} at ${event.position} in order: ${error.message}`,
    { cause: error },
  );
}
