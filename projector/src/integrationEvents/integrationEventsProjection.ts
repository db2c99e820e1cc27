import { headers, nanos, type JetStreamClient, type NatsConnection } from 'nats';
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
  natsUrl: string;
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
 * `integration-events` → NATS JetStream. A batch is published concurrently (in order on one
 * connection), and the checkpoint is written in PostgreSQL once every publish is acked. A crash in
 * between publishes the batch again; `Nats-Msg-Id` = event id makes the broker drop the repeats.
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
    const jsm = await nc.jetstreamManager();
    try {
      await jsm.streams.info(this.copy);
    } catch (error) {
      if (!/stream not found/i.test((error as Error).message)) throw error;
      try {
        await jsm.streams.add({
          name: this.copy,
          subjects: [`${this.subjectPrefix}.>`],
          duplicate_window: nanos(duplicateWindowMs),
        });
      } catch (addError) {
        if (!/already in use|exists/i.test((addError as Error).message)) throw addError;
      }
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
    if (events.length > 0) {
      await this.connection();
      const js = this.js!;
      const timeout = this.options.publishTimeoutMs ?? 5000;
      await Promise.all(
        events.map((event) => {
          const h = headers();
          h.set('Tweeter-Position', event.position);
          return js.publish(
            subjectOf(this.subjectPrefix, event),
            encoder.encode(JSON.stringify(toPublicEvent(event))),
            { msgID: event.id, headers: h, timeout },
          );
        }),
      );
    }
    const result = await this.options.pool.query(
      `UPDATE projections.checkpoints SET position = $3, updated_at = now()
       WHERE projection = $1 AND copy = $2 AND position IS NOT DISTINCT FROM $4`,
      [this.name, this.copy, upTo, from],
    );
    if (result.rowCount !== 1)
      throw new CheckpointMovedError(this.name, from, await this.checkpoint());
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
