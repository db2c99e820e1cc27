/**
 * The event store port: the one interface the product writes to and reads the log through.
 * Adapters: PostgreSQL (default) and EventStoreDB. Both pass the same contract suite.
 */

/**
 * A global log position. Opaque, but positions of one store compare correctly as plain strings
 * (`a < b` means a comes first), which is what checkpoints and read-your-writes waits rely on.
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

export interface NewEvent {
  /** UUID; appending an id that is already stored is a no-op. */
  id: string;
  type: string;
  data: unknown;
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
  metadata: unknown;
  recordedAt: Date;
}

export interface AppendResult {
  /** Revision of the stream's last event after the append (pass it as the next expectation). */
  nextRevision: bigint;
  /** Global position of the last event appended. */
  position: Position;
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
  readonly kind: 'postgres' | 'eventstoredb';
  /** Appends atomically; throws WrongExpectedRevisionError when the expectation does not hold. */
  append(
    streamId: string,
    events: NewEvent[],
    options: { expectedRevision: ExpectedRevision },
  ): Promise<AppendResult>;
  /** The events of one stream in revision order; [] when it does not exist. */
  readStream(
    streamId: string,
    options?: { fromRevision?: bigint; maxCount?: number },
  ): Promise<RecordedEvent[]>;
  /** One batch of the global log in position order. */
  readAll(options: ReadAllOptions): Promise<RecordedEvent[]>;
  /**
   * Catch-up then live subscription to the global log. Each iteration yields a non-empty batch in
   * position order; the next batch is read only after the consumer asks for it (back-pressure).
   */
  subscribe(options?: SubscribeOptions): AsyncIterable<RecordedEvent[]>;
  /** Position of the newest event a subscriber can see, or null for an empty log. */
  headPosition(): Promise<Position | null>;
  /** How many events lie after `position`, counting at most `cap` (lag reporting). */
  countAfter(position: Position | null, cap?: number): Promise<number>;
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

/** Positions are fixed-width hex pairs so that string order is log order. */
export function encodePosition(high: bigint, low: bigint): Position {
  return (high.toString(16).padStart(16, '0') + low.toString(16).padStart(16, '0')) as Position;
}

export function decodePosition(position: Position): [bigint, bigint] {
  if (!/^[0-9a-f]{32}$/.test(position)) throw new RangeError(`Not a position: ${position}`);
  return [BigInt(`0x${position.slice(0, 16)}`), BigInt(`0x${position.slice(16)}`)];
}

export function isPosition(value: string): value is Position {
  return /^[0-9a-f]{32}$/.test(value);
}

export function comparePositions(a: Position | null, b: Position | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a < b ? -1 : 1;
}
