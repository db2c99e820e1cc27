import {
  ANY,
  END,
  EventStoreDBClient,
  excludeSystemEvents,
  FORWARDS,
  jsonEvent,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  StreamNotFoundError,
  WrongExpectedVersionError,
  type AllStreamResolvedEvent,
  type AppendExpectedRevision,
  type Position as EsdbPosition,
  type ResolvedEvent,
} from '@eventstore/db-client';
import {
  decodePosition,
  encodePosition,
  WrongExpectedRevisionError,
  type AppendResult,
  type EventStore,
  type ExpectedRevision,
  type NewEvent,
  type Position,
  type ReadAllOptions,
  type RecordedEvent,
  type SubscribeOptions,
} from '../port.ts';
import { batchesOf } from './batchesOf.ts';

const toEsdbExpected = (expected: ExpectedRevision): AppendExpectedRevision =>
  expected === 'any'
    ? ANY
    : expected === 'no_stream'
      ? NO_STREAM
      : expected === 'stream_exists'
        ? STREAM_EXISTS
        : expected;

const toPosition = (p: EsdbPosition): Position => encodePosition(p.commit, p.prepare);
const fromPosition = (p: Position): EsdbPosition => {
  const [commit, prepare] = decodePosition(p);
  return { commit, prepare };
};

const isSystem = (streamId: string, type: string) =>
  streamId.startsWith('$') || type.startsWith('$');

const toRecorded = (resolved: ResolvedEvent | AllStreamResolvedEvent): RecordedEvent | null => {
  const event = resolved.event;
  if (!event || isSystem(event.streamId, event.type)) return null;
  if (!event.position)
    throw new Error('EventStoreDB did not return event positions (needs server 22.6 or later)');
  return {
    id: event.id,
    streamId: event.streamId,
    revision: event.revision,
    position: toPosition(event.position),
    type: event.type,
    data: event.data,
    metadata: event.metadata,
    recordedAt: event.created,
  };
};

/** The production event store, through the official gRPC client. */
export class EventStoreDbEventStore implements EventStore {
  readonly kind = 'eventstoredb' as const;

  constructor(private readonly client: EventStoreDBClient) {}

  static connect(connectionString: string): EventStoreDbEventStore {
    return new EventStoreDbEventStore(EventStoreDBClient.connectionString(connectionString));
  }

  async append(
    streamId: string,
    events: NewEvent[],
    { expectedRevision }: { expectedRevision: ExpectedRevision },
  ): Promise<AppendResult> {
    if (events.length === 0) throw new RangeError('append needs at least one event');
    try {
      const result = await this.client.appendToStream(
        streamId,
        events.map((e) =>
          jsonEvent({
            id: e.id,
            type: e.type,
            data: e.data as Record<string, unknown>,
            metadata: e.metadata as Record<string, unknown>,
          }),
        ),
        { expectedRevision: toEsdbExpected(expectedRevision) },
      );
      if (!result.position) throw new Error('EventStoreDB returned no position for an append');
      return { nextRevision: result.nextExpectedRevision, position: toPosition(result.position) };
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) {
        const actual = error.actualVersion;
        throw new WrongExpectedRevisionError(
          streamId,
          expectedRevision,
          typeof actual === 'bigint' ? actual : actual === NO_STREAM ? 'no_stream' : 'unknown',
        );
      }
      throw error;
    }
  }

  async readStream(
    streamId: string,
    { fromRevision = 0n, maxCount = 10_000 }: { fromRevision?: bigint; maxCount?: number } = {},
  ): Promise<RecordedEvent[]> {
    const events: RecordedEvent[] = [];
    try {
      for await (const resolved of this.client.readStream(streamId, {
        fromRevision: fromRevision === 0n ? START : fromRevision,
        maxCount,
        direction: FORWARDS,
      })) {
        const recorded = toRecorded(resolved);
        if (recorded) events.push(recorded);
      }
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw error;
    }
    return events;
  }

  async readAll({ after = null, maxCount }: ReadAllOptions): Promise<RecordedEvent[]> {
    const events: RecordedEvent[] = [];
    // readAll starts *at* the given position; skip that event, and read enough past system events.
    for await (const resolved of this.client.readAll({
      fromPosition: after === null ? START : fromPosition(after),
      maxCount: maxCount + 1 + 64,
      direction: FORWARDS,
    })) {
      const recorded = toRecorded(resolved);
      if (!recorded || (after !== null && recorded.position <= after)) continue;
      events.push(recorded);
      if (events.length === maxCount) break;
    }
    return events;
  }

  async *subscribe({
    after = null,
    batchSize = 1000,
    signal,
  }: SubscribeOptions = {}): AsyncIterable<RecordedEvent[]> {
    // subscribeToAll starts strictly after fromPosition.
    const subscription = this.client.subscribeToAll({
      fromPosition: after === null ? START : fromPosition(after),
      filter: excludeSystemEvents(),
    });
    try {
      for await (const batch of batchesOf<AllStreamResolvedEvent>(
        subscription,
        batchSize,
        signal,
      )) {
        const events = batch.map(toRecorded).filter((e): e is RecordedEvent => e !== null);
        if (events.length > 0) yield events;
      }
    } finally {
      await subscription.unsubscribe().catch(() => undefined);
    }
  }

  async headPosition(): Promise<Position | null> {
    for await (const resolved of this.client.readAll({
      fromPosition: END,
      direction: 'backwards',
      maxCount: 256,
    })) {
      const recorded = toRecorded(resolved);
      if (recorded) return recorded.position;
    }
    return null;
  }

  async countAfter(position: Position | null, cap = 100_000): Promise<number> {
    let count = 0;
    for await (const resolved of this.client.readAll({
      fromPosition: position === null ? START : fromPosition(position),
      maxCount: cap + 1,
      direction: FORWARDS,
    })) {
      const recorded = toRecorded(resolved);
      if (recorded && (position === null || recorded.position > position)) count++;
    }
    return Math.min(count, cap);
  }

  async ping(): Promise<void> {
    for await (const _ of this.client.readAll({
      fromPosition: END,
      direction: 'backwards',
      maxCount: 1,
    }))
      break;
  }

  async close(): Promise<void> {
    await this.client.dispose();
  }
}
