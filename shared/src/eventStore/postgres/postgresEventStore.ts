import type pg from 'pg';
import type { Logger } from 'pino';
import { assertNever } from '../../events/catalogue.ts';
import { createPool, ensureDatabase, migrate } from '../../postgres/database.ts';
import {
  assertPositionFromStore,
  decodePosition,
  DuplicateEventIdError,
  encodePosition,
  WrongExpectedRevisionError,
  type AppendResult,
  type EventStore,
  type ExpectedRevision,
  type NewEvent,
  type Position,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type SubscribeOptions,
} from '../port.ts';
import { AppendWakeups } from './appendWakeups.ts';
import { eventStoreMigrations } from './migrations.ts';

export interface PostgresEventStoreOptions {
  url: string;
  logger?: Logger;
  poolSize?: number;
  /** Longest a subscriber sleeps without a notification before it looks again. */
  pollIntervalMs?: number;
  /**
   * Append calls under way at once (default 2); appends arriving meanwhile go together in the
   * next (group commit). 1 sends one batch at a time.
   */
  appendConcurrency?: number;
}

const expectedCode = (expected: ExpectedRevision): string => {
  if (typeof expected === 'bigint') {
    if (expected < 0n) throw new RangeError(`Expected revision must be >= 0, got ${expected}`);
    return expected.toString();
  }
  return { any: '-1', no_stream: '-2', stream_exists: '-3' }[expected];
};

interface AppendRow {
  status: 'ok' | 'duplicate' | 'wrong_expected_revision' | 'partial_duplicate' | 'ids_stored';
  revision: string | null;
  transaction_id: string | null;
  global_position: string | null;
}

const noRow = { revision: null, transaction_id: null, global_position: null };

/** A row of `append_batch`: the answer to its `item`th append (from 1). */
type BatchRow = AppendRow & { item: number };

/** One append as the batch sends it. */
interface PendingAppend {
  streamId: string;
  events: NewEvent[];
  expectedRevision: ExpectedRevision;
  expected: string;
  data: string[];
  metadata: string[];
}

interface QueuedAppend {
  request: PendingAppend;
  resolve: (result: AppendResult) => void;
  reject: (error: unknown) => void;
}

/** Most appends in one call (a bound on the statement's size). */
const maxBatch = 200;

const toAppendResult = (row: AppendRow): AppendResult => ({
  nextRevision: BigInt(row.revision!),
  position: encodePosition(BigInt(row.transaction_id!), BigInt(row.global_position!)),
});

interface EventRow {
  event_id: string;
  stream_id: string;
  revision_text: string;
  position: Position;
  event_type: string;
  data: unknown;
  metadata: unknown;
  recorded_ms: number;
}

// The text casts get names of their own: an ORDER BY transaction_id would otherwise bind to the
// text output column and sort "100000" before "99999". The position is encoded by the server
// (`encodePosition`'s 16 + 16 hex digits) and the time read as epoch ms: a catch-up reads
// hundreds of thousands of rows, and the server has a core of its own.
const selectColumns = `event_id, stream_id, stream_revision::text AS revision_text,
  lpad(to_hex(transaction_id::text::bigint), 16, '0') || lpad(to_hex(global_position), 16, '0') AS position,
  event_type, data, metadata, (extract(epoch FROM recorded_at) * 1000)::float8 AS recorded_ms`;

const toRecorded = (row: EventRow): RecordedEvent => ({
  id: row.event_id,
  streamId: row.stream_id,
  revision: BigInt(row.revision_text),
  position: row.position,
  type: row.event_type,
  data: row.data,
  metadata: row.metadata,
  recordedAt: new Date(row.recorded_ms),
});

// Only transactions below the oldest running one are visible to the log readers: see migrations.ts.
const horizon = `transaction_id < pg_snapshot_xmin(pg_current_snapshot())`;

/** The PostgreSQL event store: the default wherever EVENTSTORE_CONNECTION_STRING is unset. */
export class PostgresEventStore implements EventStore {
  readonly kind = 'postgres' as const;
  private readonly wakeups: AppendWakeups;
  private readonly queued: QueuedAppend[] = [];
  private appendsUnderWay = 0;
  private readonly appendConcurrency: number;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly options: PostgresEventStoreOptions,
  ) {
    this.wakeups = new AppendWakeups(options.url, pool, options.logger);
    this.appendConcurrency = Math.max(1, options.appendConcurrency ?? 2);
  }

  /** Creates the database and schema when missing, then connects. */
  static async connect(options: PostgresEventStoreOptions): Promise<PostgresEventStore> {
    await ensureDatabase(options.url);
    const pool = createPool(options.url, {
      max: options.poolSize ?? 20,
      applicationName: 'tweeter-event-store',
    });
    await migrate(pool, 'event_store', eventStoreMigrations);
    return new PostgresEventStore(pool, options);
  }

  async append(
    streamId: string,
    events: NewEvent[],
    { expectedRevision }: { expectedRevision: ExpectedRevision },
  ): Promise<AppendResult> {
    if (events.length === 0) throw new RangeError('append needs at least one event');
    const request: PendingAppend = {
      streamId,
      events,
      expectedRevision,
      expected: expectedCode(expectedRevision),
      data: events.map((e) => JSON.stringify(e.data ?? null)),
      // No metadata is stored as JSON null, read back as null (as the EventStoreDB adapter does).
      metadata: events.map((e) => JSON.stringify(e.metadata ?? null)),
    };
    return new Promise<AppendResult>((resolve, reject) => {
      this.queued.push({ request, resolve, reject });
      this.sendQueued();
    });
  }

  /**
   * Group commit: at most `appendConcurrency` calls are under way at once; appends that arrive
   * meanwhile wait and go together in the next call (one round trip, one transaction, one WAL
   * flush; see append_batch in migrations.ts), each answered as if it had gone alone. Alone, an
   * append goes at once: waiting is only ever for a call already under way.
   */
  private sendQueued(): void {
    while (this.appendsUnderWay < this.appendConcurrency && this.queued.length > 0) {
      const batch = this.queued.splice(0, maxBatch);
      this.appendsUnderWay++;
      void this.sendBatch(batch).finally(() => {
        this.appendsUnderWay--;
        this.sendQueued();
      });
    }
  }

  private async sendBatch(batch: QueuedAppend[]): Promise<void> {
    const answer = (queued: QueuedAppend, outcome: Promise<AppendResult>) =>
      outcome.then(queued.resolve, queued.reject);
    if (batch.length === 1) return answer(batch[0]!, this.appendAlone(batch[0]!.request));
    let rows: BatchRow[];
    try {
      rows = await this.appendBatch(batch.map((q) => q.request));
    } catch {
      // Nothing of the batch was stored (one transaction): each goes alone, with its own error,
      // one after another (an outage should not take the whole pool).
      for (const q of batch) await answer(q, this.appendAlone(q.request));
      return;
    }
    await Promise.all(
      batch.map((queued, index) => {
        const row = rows.find((r) => r.item === index + 1);
        const outcome =
          row === undefined
            ? Promise.reject(new Error('append_batch answered no row for an append'))
            : this.resultOf(queued.request, row);
        return answer(queued, outcome);
      }),
    );
  }

  private async appendAlone(request: PendingAppend): Promise<AppendResult> {
    let row: AppendRow;
    try {
      [row] = (await this.appendBatch([request])) as [BatchRow];
    } catch (error) {
      // Event ids being stored by a concurrent append to another stream (unique violation):
      // answer as the first append did.
      const e = error as { code?: string; constraint?: string };
      if (e.code === '23505' && e.constraint === 'events_event_id_key')
        return this.resultOf(request, { ...noRow, status: 'ids_stored' });
      throw error;
    }
    return this.resultOf(request, row);
  }

  /**
   * One call of `event_store.append_batch` (migrations.ts): every append of `requests` in one
   * transaction, each answered by a row of its own. (`append_events`, the one-append function of
   * the first migration, stays for the services of earlier versions during an upgrade.)
   */
  private async appendBatch(requests: PendingAppend[]): Promise<BatchRow[]> {
    const { rows } = await this.pool.query<BatchRow>({
      name: 'event_store_append_batch',
      text: `SELECT item, status, revision::text AS revision, transaction_id, global_position
             FROM event_store.append_batch($1::text[], $2::bigint[], $3::int[], $4::uuid[],
                                           $5::text[], $6::jsonb[], $7::jsonb[])`,
      values: [
        requests.map((r) => r.streamId),
        requests.map((r) => r.expected),
        requests.map((r) => r.events.length),
        requests.flatMap((r) => r.events.map((e) => e.id)),
        requests.flatMap((r) => r.events.map((e) => e.type)),
        requests.flatMap((r) => r.data),
        requests.flatMap((r) => r.metadata),
      ],
    });
    if (rows.some((row) => row.status === 'ok')) this.wakeups.signal();
    return rows;
  }

  /** What one append's row means, as a result or the port's error. */
  private async resultOf(request: PendingAppend, row: AppendRow): Promise<AppendResult> {
    const { streamId, events, expectedRevision } = request;
    switch (row.status) {
      case 'ok':
        return toAppendResult(row);
      case 'duplicate':
      case 'ids_stored': {
        // Ids are looked up in every stream: make sure they are this stream's.
        const existing = await this.findAppended(streamId, events);
        if (existing) return existing;
        throw new DuplicateEventIdError(
          streamId,
          events.map((e) => e.id),
        );
      }
      case 'wrong_expected_revision':
        throw new WrongExpectedRevisionError(
          streamId,
          expectedRevision,
          row.revision === null ? 'no_stream' : BigInt(row.revision),
        );
      case 'partial_duplicate':
        throw new DuplicateEventIdError(
          streamId,
          events.map((e) => e.id),
        );
      default:
        return assertNever(row.status);
    }
  }

  /**
   * The result of an earlier append of exactly these events to this stream, or null (some ids
   * missing, or stored in another stream: never answer with another stream's revision).
   */
  private async findAppended(streamId: string, events: NewEvent[]): Promise<AppendResult | null> {
    const { rows } = await this.pool.query<{
      revision_text: string;
      tx_text: string;
      seq_text: string;
      n: number;
      here: number;
    }>(
      `SELECT stream_revision::text AS revision_text, transaction_id::text AS tx_text,
              global_position::text AS seq_text, count(*) OVER ()::int AS n,
              count(*) FILTER (WHERE stream_id = $2) OVER ()::int AS here
       FROM event_store.events WHERE event_id = ANY ($1::uuid[])
       ORDER BY events.transaction_id DESC, events.global_position DESC LIMIT 1`,
      [events.map((e) => e.id), streamId],
    );
    const row = rows[0];
    if (!row || row.n !== events.length || row.here !== events.length) return null;
    return {
      nextRevision: BigInt(row.revision_text),
      position: encodePosition(BigInt(row.tx_text), BigInt(row.seq_text)),
    };
  }

  async readStream(
    streamId: string,
    { fromRevision, maxCount = 10_000, direction = 'forwards' }: ReadStreamOptions = {},
  ): Promise<RecordedEvent[]> {
    if (direction === 'backwards') {
      const { rows } = await this.pool.query<EventRow>({
        name: 'event_store_read_stream_backwards',
        text: `SELECT ${selectColumns} FROM event_store.events
               WHERE stream_id = $1 AND stream_revision <= $2
               ORDER BY events.stream_revision DESC LIMIT $3`,
        values: [streamId, (fromRevision ?? BigInt(Number.MAX_SAFE_INTEGER)).toString(), maxCount],
      });
      return rows.map(toRecorded);
    }
    const { rows } = await this.pool.query<EventRow>({
      name: 'event_store_read_stream',
      text: `SELECT ${selectColumns} FROM event_store.events
             WHERE stream_id = $1 AND stream_revision >= $2 ORDER BY events.stream_revision LIMIT $3`,
      values: [streamId, (fromRevision ?? 0n).toString(), maxCount],
    });
    return rows.map(toRecorded);
  }

  async readAll({ after = null, maxCount }: ReadAllOptions): Promise<RecordedEvent[]> {
    if (after === null) {
      const { rows } = await this.pool.query<EventRow>({
        name: 'event_store_read_all_start',
        text: `SELECT ${selectColumns} FROM event_store.events WHERE ${horizon}
               ORDER BY events.transaction_id, events.global_position LIMIT $1`,
        values: [maxCount],
      });
      return rows.map(toRecorded);
    }
    assertPositionFromStore(this.kind, after);
    const [tx, seq] = decodePosition(after);
    const { rows } = await this.pool.query<EventRow>({
      name: 'event_store_read_all',
      text: `SELECT ${selectColumns} FROM event_store.events
             WHERE (transaction_id, global_position) > ($1::xid8, $2::bigint) AND ${horizon}
             ORDER BY events.transaction_id, events.global_position LIMIT $3`,
      values: [tx.toString(), seq.toString(), maxCount],
    });
    return rows.map(toRecorded);
  }

  async *subscribe({
    after = null,
    batchSize = 1000,
    signal,
  }: SubscribeOptions = {}): AsyncIterable<RecordedEvent[]> {
    assertPositionFromStore(this.kind, after);
    const waiter = this.wakeups.waiter();
    let position = after;
    try {
      while (!signal?.aborted) {
        const batch = await this.readAll({ after: position, maxCount: batchSize });
        if (batch.length > 0) {
          position = batch[batch.length - 1]!.position;
          waiter.found();
          yield batch;
          continue;
        }
        await waiter.wait(this.options.pollIntervalMs ?? 1000, signal);
      }
    } finally {
      waiter.dispose();
    }
  }

  async headPosition(): Promise<Position | null> {
    const { rows } = await this.pool.query<{ tx_text: string; seq_text: string }>(
      `SELECT transaction_id::text AS tx_text, global_position::text AS seq_text FROM event_store.events
       WHERE ${horizon} ORDER BY events.transaction_id DESC, events.global_position DESC LIMIT 1`,
    );
    const row = rows[0];
    return row ? encodePosition(BigInt(row.tx_text), BigInt(row.seq_text)) : null;
  }

  async countAfter(position: Position | null, cap = 10_000_000): Promise<number> {
    assertPositionFromStore(this.kind, position);
    const [tx, seq] = position === null ? [0n, 0n] : decodePosition(position);
    const { rows } = await this.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (
         SELECT 1 FROM event_store.events
         WHERE (transaction_id, global_position) > ($1::xid8, $2::bigint) AND ${horizon} LIMIT $3) t`,
      [tx.toString(), seq.toString(), cap],
    );
    return rows[0]!.n;
  }

  async estimatedLag(position: Position | null): Promise<number> {
    const exactUpTo = 10_000;
    const counted = await this.countAfter(position, exactUpTo + 1);
    if (counted <= exactUpTo) return counted;
    // Past the exact range: sequence numbers are taken in insertion order, so their distance is
    // the number of events appended since (plus ids of rolled-back appends).
    const head = await this.headPosition();
    if (head === null) return counted;
    const [, headSeq] = decodePosition(head);
    const fromSeq = position === null ? 0n : decodePosition(position)[1];
    return Math.max(counted, Number(headSeq - fromSeq));
  }

  /**
   * Resolves once every transaction that committed before the call is visible to log readers
   * (below the horizon). For tests and tools that inspect the log right after appending while
   * other transactions may be running on the server.
   */
  async settled(timeoutMs = 30_000): Promise<void> {
    const { rows } = await this.pool.query<{ xmax: string }>(
      'SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS xmax',
    );
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const check = await this.pool.query<{ visible: boolean }>(
        'SELECT pg_snapshot_xmin(pg_current_snapshot()) >= $1::xid8 AS visible',
        [rows[0]!.xmax],
      );
      if (check.rows[0]!.visible) return;
      if (Date.now() > deadline)
        throw new Error('the log did not settle: a transaction stays open');
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    await this.wakeups.close();
    await this.pool.end();
  }
}
