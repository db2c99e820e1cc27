/**
 * The event store port: the one interface the product writes to and reads the log through.
 * Adapters: PostgreSQL (default) and EventStoreDB. Both pass the same contract suite.
 */

/** Which store an adapter talks to; also recorded in every position it hands out. */
export type EventStoreKind = 'postgres' | 'eventstoredb';

/**
 * A global log position. Opaque, but positions of one store compare correctly as plain strings
 * (`a < b` means a comes first), which is what checkpoints and read-your-writes waits rely on.
 *
 * A position says which kind of store made it: PostgreSQL positions are 32 hex digits
 * (transaction id, sequence), EventStoreDB positions are `esdb:` followed by 32 hex digits (commit,
 * prepare). An adapter refuses a position of the other kind (`PositionFromAnotherStoreError`)
 * instead of reading it as one of its own: a checkpoint written on one store means nothing on the
 * other. Positions of different kinds never compare meaningfully.
 */
export type Position = string & { readonly __brand: 'Position' };

/** Expected state of a stream before an append: optimistic concurrency. */
export type ExpectedRevision =
  /** Append whatever the stream's state. */
  | 'any'
  /** The stream must not exist yet (first event gets revision 0). */
  | 'no_stream'
  /** The stream must hold at least one event. */
  | 'stream_exists'
  /** The stream's last event must have exactly this revision. */
  | bigint;

/**
 * An event to append.
 *
 * **Idempotency: what both stores guarantee.** Redoing an append that succeeded (the same
 * events, ids in the same order, to the same stream) with the same expectation, and that
 * expectation is `'no_stream'` or an exact revision, appends nothing and answers as the first
 * append did (`nextRevision` and `position` of the events stored then), also from another process
 * or after a restart of either side. The command service relies on this alone: events whose ids
 * it derives (from an Idempotency-Key) are appended with `'no_stream'` or the revision it read.
 *
 * Not guaranteed, because EventStoreDB does not give it (PostgreSQL happens to): deduplication of
 * an id appended in any other way — under `'any'` or `'stream_exists'` (EventStoreDB checks those
 * only against a bounded in-memory window of recent ids), in another stream (EventStoreDB
 * deduplicates within a stream only), or as part of a different append (an expectation equal to
 * the current revision is a fresh write). What *is* guaranteed in those cases: an append never
 * reports events as appended to a stream that does not hold them; it either stores them or throws
 * (`DuplicateEventIdError` on PostgreSQL for ids stored in another stream, or only some of the
 * append's ids stored; on EventStoreDB a
 * duplicate that arrives before the original is indexed may time out, a dependency failure, and
 * its retry is then deduplicated as above).
 */
export interface NewEvent {
  /** UUID. */
  id: string;
  type: string;
  data: unknown;
  /** Read back as stored; `null` or `undefined` here is read back as `null` on both stores. */
  metadata: unknown;
}

export interface RecordedEvent {
  id: string;
  streamId: string;
  /** 0-based number of the event within its stream. */
  revision: bigint;
  position: Position;
  type: string;
  data: unknown;
  /** `null` when the event was appended without metadata (same on both stores). */
  metadata: unknown;
  recordedAt: Date;
}

export interface AppendResult {
  /** Revision of the stream's last event after the append (pass it as the next expectation). */
  nextRevision: bigint;
  /** Global position of the last event appended. */
  position: Position;
}

export interface ReadStreamOptions {
  /** Forwards: the first revision read (default 0). Backwards: the newest (default: the last). */
  fromRevision?: bigint;
  /** At most this many events (default 10,000). */
  maxCount?: number;
  direction?: 'forwards' | 'backwards';
}

export interface ReadAllOptions {
  /** Read events strictly after this position; null or absent: from the start. */
  after?: Position | null;
  maxCount: number;
}

export interface SubscribeOptions {
  /** Deliver events strictly after this position; null or absent: from the start. */
  after?: Position | null;
  /** Largest batch handed over at once while catching up. */
  batchSize?: number;
  /** Ends the subscription; the iterator then finishes without an error. */
  signal?: AbortSignal;
}

export interface EventStore {
  readonly kind: EventStoreKind;
  /**
   * Appends atomically; throws WrongExpectedRevisionError when the expectation does not hold,
   * StreamDeletedError when the stream was deleted for good (EventStoreDB tombstones). See
   * NewEvent for what a repeated append does.
   */
  append(
    streamId: string,
    events: NewEvent[],
    options: { expectedRevision: ExpectedRevision },
  ): Promise<AppendResult>;
  /**
   * Up to `maxCount` (default 10,000) events of one stream; [] when it does not exist;
   * StreamDeletedError when it was deleted for good. Forwards (the default): in revision order from
   * `fromRevision` (default 0). Backwards: newest first, from `fromRevision` (default: the last
   * event) down, for a caller that needs only a stream's newest events (a token check, a scan for a
   * recent event).
   */
  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  /**
   * One batch of the global log in position order: exactly `maxCount` events unless the end of the
   * log comes first, so a shorter batch means "at the head" (system events of EventStoreDB are
   * skipped without shortening it).
   */
  readAll(options: ReadAllOptions): Promise<RecordedEvent[]>;
  /**
   * Catch-up then live subscription to the global log. Each iteration yields a non-empty batch in
   * position order; the next batch is read only after the consumer asks for it (back-pressure).
   */
  subscribe(options?: SubscribeOptions): AsyncIterable<RecordedEvent[]>;
  /** Position of the newest event a subscriber can see, or null for an empty log. */
  headPosition(): Promise<Position | null>;
  /**
   * How many events lie after `position`, counting at most `cap`, by reading them (on
   * EventStoreDB it streams up to `cap` events): for tests and tools that need an exact figure,
   * never for lag on a timer — use `estimatedLag`.
   */
  countAfter(position: Position | null, cap?: number): Promise<number>;
  /**
   * About how many events lie after `position` (null: the whole log), cheaply, for lag figures and
   * progress: 0 exactly when no event lies after it. Comparable only with other answers of the
   * same store.
   *  - PostgreSQL: exact up to 10,000 (an index-only count); beyond, the distance between the
   *    sequence numbers of `position` and of the head (ids of rolled-back appends count too).
   *  - EventStoreDB: no event is read past the head lookup: the distance between the commit
   *    positions of `position` and of the head in bytes of the transaction log, divided by a
   *    nominal 512 bytes per event record (at least 1 when an event lies after `position`). An
   *    order of magnitude, not a count: records vary with payload size, and system events (links
   *    of system projections, stream metadata) take log space too.
   */
  estimatedLag(position: Position | null): Promise<number>;
  /** Checks the store answers (readiness probes). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The stream's state did not match the expected revision; nothing was appended. */
export class WrongExpectedRevisionError extends Error {
  override name = 'WrongExpectedRevisionError';
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedRevision,
    /** The stream's actual last revision, or 'no_stream'. */
    readonly actual: bigint | 'no_stream' | 'unknown',
  ) {
    super(`Stream ${streamId}: expected revision ${String(expected)}, actual ${String(actual)}`);
  }
}

/** The stream was deleted for good (an EventStoreDB tombstone): it can be neither read nor appended to. */
export class StreamDeletedError extends Error {
  override name = 'StreamDeletedError';
  constructor(readonly streamId: string) {
    super(`Stream ${streamId} has been deleted`);
  }
}

/**
 * An append asked for event ids that are stored already in another stream (PostgreSQL, where ids
 * are unique across the log); nothing was appended. See NewEvent.
 */
export class DuplicateEventIdError extends Error {
  override name = 'DuplicateEventIdError';
  constructor(
    readonly streamId: string,
    readonly eventIds: readonly string[],
  ) {
    super(`Append to ${streamId}: event ids already stored in another stream or append`);
  }
}

const storeNames: Record<EventStoreKind, string> = {
  postgres: 'the PostgreSQL event store',
  eventstoredb: 'EventStoreDB',
};

/**
 * A position (a checkpoint, an X-Min-Position) made by the other kind of store: the deployment
 * switched stores (EVENTSTORE_CONNECTION_STRING set or unset) under existing projections.
 */
export class PositionFromAnotherStoreError extends Error {
  override name = 'PositionFromAnotherStoreError';
  constructor(
    readonly position: string,
    readonly expected: EventStoreKind,
    readonly found: EventStoreKind | null,
  ) {
    super(
      found === null
        ? `${JSON.stringify(position)} is not an event-store position`
        : `Position ${position} was made by ${storeNames[found]}, but this deployment now uses ` +
            `${storeNames[expected]} (EVENTSTORE_CONNECTION_STRING is ${expected === 'eventstoredb' ? 'set' : 'unset'}): ` +
            `a checkpoint of one store means nothing in the other. Either go back to the store that ` +
            `wrote it, or rebuild the projections on this one: tweeter-admin reset <projection> --yes ` +
            `for each projection, then restart the projector (see docs/eventstore.md).` +
            (found === 'postgres' && expected === 'eventstoredb'
              ? ' Checkpoints written by EventStoreDB before positions carried their store look like this too.'
              : ''),
    );
  }
}

const hexPair = /^[0-9a-f]{32}$/;
const esdbPrefix = 'esdb:';

/**
 * Positions are fixed-width hex pairs so that string order is log order; EventStoreDB's carry the
 * prefix `esdb:` so that neither store takes the other's for its own.
 */
export function encodePosition(
  high: bigint,
  low: bigint,
  kind: EventStoreKind = 'postgres',
): Position {
  const hex = high.toString(16).padStart(16, '0') + low.toString(16).padStart(16, '0');
  return (kind === 'eventstoredb' ? esdbPrefix + hex : hex) as Position;
}

/** The store kind a position string was made by, or null when it is no position at all. */
export function positionKind(value: string): EventStoreKind | null {
  if (hexPair.test(value)) return 'postgres';
  if (value.startsWith(esdbPrefix) && hexPair.test(value.slice(esdbPrefix.length)))
    return 'eventstoredb';
  return null;
}

/** The two numbers of a position of either kind. */
export function decodePosition(position: Position): [bigint, bigint] {
  const kind = positionKind(position);
  if (kind === null) throw new RangeError(`Not a position: ${position}`);
  const hex = kind === 'eventstoredb' ? position.slice(esdbPrefix.length) : position;
  return [BigInt(`0x${hex.slice(0, 16)}`), BigInt(`0x${hex.slice(16)}`)];
}

/** Whether `value` is a position of either kind (X-Min-Position validation). */
export function isPosition(value: string): value is Position {
  return positionKind(value) !== null;
}

/**
 * Throws PositionFromAnotherStoreError unless `position` is null or was made by a store of `kind`.
 * The projector checks every stored checkpoint with it at start and refuses to run on a mismatch;
 * the adapters check every position they are handed.
 */
export function assertPositionFromStore(
  kind: EventStoreKind,
  position: string | null | undefined,
): asserts position is Position | null | undefined {
  if (position === null || position === undefined) return;
  const found = positionKind(position);
  if (found !== kind) throw new PositionFromAnotherStoreError(position, kind, found);
}

export function comparePositions(a: Position | null, b: Position | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a < b ? -1 : 1;
}
