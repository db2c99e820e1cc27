import type { Readable } from 'node:stream';
import {
  ANY,
  BACKWARDS,
  END,
  EventStoreDBClient,
  excludeSystemEvents,
  FORWARDS,
  jsonEvent,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  StreamDeletedError as EsdbStreamDeletedError,
  StreamNotFoundError,
  WrongExpectedVersionError,
  type AllStreamResolvedEvent,
  type AppendExpectedRevision,
  type Position as EsdbPosition,
} from '@eventstore/db-client';
import {
  assertPositionFromStore,
  decodePosition,
  StreamDeletedError,
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
import { batchesOf } from './batchesOf.ts';
import {
  compareEsdb,
  newestUserPosition,
  positionOf,
  readThenCancel,
  readUserEvents,
  scanForwards,
  toPosition,
  toRecorded,
  type OpenAllRead,
} from './reads.ts';

const toEsdbExpected = (expected: ExpectedRevision): AppendExpectedRevision =>
  expected === 'any'
    ? ANY
    : expected === 'no_stream'
      ? NO_STREAM
      : expected === 'stream_exists'
        ? STREAM_EXISTS
        : expected;

/** Nominal size of one event record in the transaction log, for `estimatedLag` (see the port). */
export const nominalEventRecordBytes = 512;

export interface EventStoreDbConnectOptions {
  /**
   * Check at once that the server answers a bounded read of $all (which also proves the
   * credentials may read it), failing within `timeoutMs`. The client itself connects lazily, on
   * the first call: services leave this off so that they start, and answer 503, while the store
   * is down; the admin CLI turns it on to say "cannot reach the event store" at once.
   */
  verify?: boolean;
  timeoutMs?: number;
}

/** A subscription to $all as the client makes it: a readable stream of events. */
export type AllSubscription = Readable & { unsubscribe(): Promise<void> };

/** The client's $all calls, replaceable so that tests drive the adapter without a server. */
export interface EventStoreDbCalls {
  openAll: OpenAllRead;
  /** Subscribes to $all after `from` (null: from the start), system events filtered out. */
  subscribeAll: (from: EsdbPosition | null) => AllSubscription;
}

/** The production event store, through the official gRPC client. */
export class EventStoreDbEventStore implements EventStore {
  readonly kind = 'eventstoredb' as const;
  private readonly calls: EventStoreDbCalls;

  constructor(
    private readonly client: EventStoreDBClient,
    calls: Partial<EventStoreDbCalls> = {},
  ) {
    this.calls = {
      openAll: (from, count, direction) =>
        client.readAll({
          fromPosition: from === 'start' ? START : from === 'end' ? END : from,
          maxCount: count,
          direction: direction === 'forwards' ? FORWARDS : BACKWARDS,
        }),
      subscribeAll: (from) =>
        client.subscribeToAll({ fromPosition: from ?? START, filter: excludeSystemEvents() }),
      ...calls,
    };
  }

  private get openAll(): OpenAllRead {
    return this.calls.openAll;
  }

  /**
   * A store on `connectionString` (`esdb://…` or `esdb+discover://…`; a string the client cannot
   * parse throws here). See EventStoreDbConnectOptions for `verify`.
   */
  static async connect(
    connectionString: string,
    options: EventStoreDbConnectOptions = {},
  ): Promise<EventStoreDbEventStore> {
    const store = new EventStoreDbEventStore(EventStoreDBClient.connectionString(connectionString));
    if (options.verify) {
      try {
        await store.ping(options.timeoutMs ?? 5000);
      } catch (error) {
        await store.close().catch(() => undefined);
        throw error;
      }
    }
    return store;
  }

  private fromPosition(position: Position | null | undefined): EsdbPosition | null {
    assertPositionFromStore(this.kind, position);
    if (position === null || position === undefined) return null;
    const [commit, prepare] = decodePosition(position);
    return { commit, prepare };
  }

  async append(
    streamId: string,
    events: NewEvent[],
    { expectedRevision }: { expectedRevision: ExpectedRevision },
  ): Promise<AppendResult> {
    if (events.length === 0) throw new RangeError('append needs at least one event');
    let result;
    try {
      result = await this.client.appendToStream(
        streamId,
        events.map((e) =>
          jsonEvent({
            id: e.id,
            type: e.type,
            data: (e.data ?? null) as Record<string, unknown>,
            // The client stores no metadata for null/undefined; reads give null back.
            ...(e.metadata === null || e.metadata === undefined
              ? {}
              : { metadata: e.metadata as Record<string, unknown> }),
          }),
        ),
        { expectedRevision: toEsdbExpected(expectedRevision) },
      );
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) {
        const actual = error.actualVersion;
        throw new WrongExpectedRevisionError(
          streamId,
          expectedRevision,
          typeof actual === 'bigint' ? actual : actual === NO_STREAM ? 'no_stream' : 'unknown',
        );
      }
      if (error instanceof EsdbStreamDeletedError) throw new StreamDeletedError(streamId);
      throw error;
    }
    if (result.position) {
      return {
        nextRevision: result.nextExpectedRevision,
        position: toPosition(result.position),
      };
    }
    // An idempotent repeat: the server answers with the original revision but no position.
    return this.positionOfStored(streamId, events, result.nextExpectedRevision);
  }

  /** The result of the earlier append of `events` ending at `lastRevision` (read back). */
  private async positionOfStored(
    streamId: string,
    events: NewEvent[],
    lastRevision: bigint,
  ): Promise<AppendResult> {
    const first = lastRevision - BigInt(events.length - 1);
    const stored = await this.readStream(streamId, {
      fromRevision: first < 0n ? 0n : first,
      maxCount: events.length,
    });
    const last = stored.at(-1);
    if (
      !last ||
      stored.length !== events.length ||
      stored.some((e, i) => e.id !== events[i]!.id) ||
      last.revision !== lastRevision
    )
      throw new Error(
        `EventStoreDB acknowledged a repeated append to ${streamId} at revision ${lastRevision}, but the stream holds other events there`,
      );
    return { nextRevision: last.revision, position: last.position };
  }

  async readStream(
    streamId: string,
    { fromRevision, maxCount = 10_000, direction = 'forwards' }: ReadStreamOptions = {},
  ): Promise<RecordedEvent[]> {
    const events: RecordedEvent[] = [];
    const backwards = direction === 'backwards';
    try {
      for await (const resolved of readThenCancel(
        this.client.readStream(streamId, {
          fromRevision: fromRevision ?? (backwards ? END : START),
          maxCount,
          direction: backwards ? BACKWARDS : FORWARDS,
        }),
      )) {
        const recorded = toRecorded(resolved);
        if (recorded) events.push(recorded);
      }
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      if (error instanceof EsdbStreamDeletedError) throw new StreamDeletedError(streamId);
      throw error;
    }
    return events;
  }

  async readAll({ after = null, maxCount }: ReadAllOptions): Promise<RecordedEvent[]> {
    return readUserEvents(this.openAll, this.fromPosition(after), maxCount);
  }

  async *subscribe({
    after = null,
    batchSize = 1000,
    signal,
  }: SubscribeOptions = {}): AsyncIterable<RecordedEvent[]> {
    const start = this.fromPosition(after);
    // subscribeToAll starts strictly after fromPosition; the guard below does not rely on it.
    const subscription = this.calls.subscribeAll(start);
    let last = start;
    try {
      for await (const batch of batchesOf<AllStreamResolvedEvent>(
        subscription,
        batchSize,
        signal,
      )) {
        const events: RecordedEvent[] = [];
        for (const resolved of batch) {
          const recorded = toRecorded(resolved);
          if (!recorded) continue;
          const position = positionOf(resolved.event!)!;
          // Exclusive start and strictly increasing positions, whatever the server sends.
          if (last && compareEsdb(position, last) <= 0) continue;
          last = position;
          events.push(recorded);
        }
        if (events.length > 0) yield events;
      }
    } finally {
      await subscription.unsubscribe().catch(() => undefined);
    }
  }

  async headPosition(): Promise<Position | null> {
    const position = await newestUserPosition(this.openAll);
    return position ? toPosition(position) : null;
  }

  async countAfter(position: Position | null, cap = 100_000): Promise<number> {
    let count = 0;
    await scanForwards(this.openAll, this.fromPosition(position), cap, () => {
      count++;
      return true;
    });
    return count;
  }

  async estimatedLag(position: Position | null): Promise<number> {
    const from = this.fromPosition(position);
    const head = await newestUserPosition(this.openAll);
    if (head === null || (from !== null && compareEsdb(head, from) <= 0)) return 0;
    const bytes = head.commit - (from?.commit ?? 0n);
    return Math.max(1, Math.round(Number(bytes) / nominalEventRecordBytes));
  }

  /**
   * One bounded read of $all (one event), within `timeoutMs`; the call is cancelled either way,
   * never left open.
   */
  async ping(timeoutMs = 2000): Promise<void> {
    const read = this.openAll('end', 1, 'backwards');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        void read.cancel().catch(() => undefined);
        reject(new Error(`EventStoreDB did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
    });
    try {
      await Promise.race([
        (async () => {
          for await (const _ of readThenCancel(read)) break;
        })(),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await this.client.dispose();
  }
}
