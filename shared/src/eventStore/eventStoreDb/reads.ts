import type {
  AllStreamResolvedEvent,
  Position as EsdbPosition,
  ResolvedEvent,
} from '@eventstore/db-client';
import { encodePosition, type Position, type RecordedEvent } from '../port.ts';

/**
 * The $all reads of the EventStoreDB adapter as pure functions over a source of raw events, so
 * that paging, filtering and call clean-up are tested without a server (reads.unit.spec.ts).
 */

/**
 * One read call: what the client's `readAll`/`readStream` return (a `StreamingRead`). The client
 * ends the underlying gRPC call only when the server has sent everything or on `cancel()`; a
 * consumer that stops early without cancelling leaves the call open (HTTP/2 flow control keeps it
 * alive), so every read here goes through `readThenCancel`.
 */
export interface CancellableRead<T> extends AsyncIterable<T> {
  cancel(): Promise<void>;
}

/** Opens a read of at most `count` raw events of $all from `from`, in `direction`. */
export type OpenAllRead = (
  from: EsdbPosition | 'start' | 'end',
  count: number,
  direction: 'forwards' | 'backwards',
) => CancellableRead<AllStreamResolvedEvent | ResolvedEvent>;

/** Yields what `read` yields and cancels the call however the consumer stops (end, break, error). */
export async function* readThenCancel<T>(read: CancellableRead<T>): AsyncGenerator<T> {
  try {
    for await (const item of read) yield item;
  } finally {
    await read.cancel().catch(() => undefined);
  }
}

export const isSystemEvent = (streamId: string, type: string) =>
  streamId.startsWith('$') || type.startsWith('$');

const maxUint64 = 2n ** 64n - 1n;

/**
 * The event's log position, or null when the server sent none. The protobuf fields default to 0,
 * so "none" arrives as commit = prepare = 0 (no event lives there: the log starts with the epoch
 * record) or as the server's "invalid position" -1 read as an unsigned 64-bit number.
 */
export function positionOf(event: { position?: EsdbPosition | undefined }): EsdbPosition | null {
  const p = event.position;
  if (!p) return null;
  if (p.commit === maxUint64 || p.prepare === maxUint64) return null;
  if (p.commit === 0n && p.prepare === 0n) return null;
  return p;
}

export const toPosition = (p: EsdbPosition): Position =>
  encodePosition(p.commit, p.prepare, 'eventstoredb');

export const compareEsdb = (a: EsdbPosition, b: EsdbPosition): number =>
  a.commit !== b.commit
    ? a.commit < b.commit
      ? -1
      : 1
    : a.prepare === b.prepare
      ? 0
      : a.prepare < b.prepare
        ? -1
        : 1;

/**
 * A user event as the port's RecordedEvent; null for system events and link-only entries. Empty
 * metadata (the client gives undefined) becomes null, as on PostgreSQL.
 */
export function toRecorded(resolved: AllStreamResolvedEvent | ResolvedEvent): RecordedEvent | null {
  const event = resolved.event;
  if (!event || isSystemEvent(event.streamId, event.type)) return null;
  const position = positionOf(event);
  if (!position)
    throw new Error(
      `EventStoreDB sent event ${event.id} of ${event.streamId} without a log position (the server must be 22.6 or later)`,
    );
  return {
    id: event.id,
    streamId: event.streamId,
    revision: event.revision,
    position: toPosition(position),
    type: event.type,
    data: event.data ?? null,
    metadata: event.metadata ?? null,
    recordedAt: event.created,
  };
}

/** Raw events of the first page when more are needed than asked (system events are skipped). */
const initialSlack = 64;
const maxSlack = 16_384;

/**
 * Calls `visit` with each user event strictly after `after`, forwards, until `visit` returns false
 * or the log ends. Reads page by page: a page of raw events that is all system events is no end of
 * the log; only a page shorter than asked is.
 */
export async function scanForwards(
  open: OpenAllRead,
  after: EsdbPosition | null,
  wanted: number,
  visit: (event: RecordedEvent) => boolean,
): Promise<void> {
  let from: EsdbPosition | 'start' = after ?? 'start';
  let boundary = after;
  let slack = initialSlack;
  let remaining = wanted;
  for (;;) {
    // +1: a read from a position may return the event at that position.
    const count = Math.min(remaining, 1_000_000) + 1 + slack;
    let read = 0;
    let last: EsdbPosition | null = null;
    for await (const raw of readThenCancel(open(from, count, 'forwards'))) {
      read++;
      if (!raw.event) continue;
      const position = positionOf(raw.event);
      if (!position) continue;
      last = position;
      if (boundary && compareEsdb(position, boundary) <= 0) continue;
      const recorded = toRecorded(raw);
      if (!recorded) continue;
      remaining--;
      if (!visit(recorded) || remaining <= 0) return;
    }
    if (read < count || last === null) return;
    if (boundary && compareEsdb(last, boundary) <= 0)
      throw new Error('EventStoreDB $all read did not advance');
    from = last;
    boundary = last;
    slack = Math.min(slack * 4, maxSlack);
  }
}

/** Up to `maxCount` user events strictly after `after`: exactly `maxCount` unless the log ends first. */
export async function readUserEvents(
  open: OpenAllRead,
  after: EsdbPosition | null,
  maxCount: number,
): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  if (maxCount <= 0) return events;
  await scanForwards(open, after, maxCount, (event) => {
    events.push(event);
    return true;
  });
  return events;
}

/**
 * The position of the newest user event, or null when the log holds none: reads backwards from
 * the end, past any run of system events, page by page.
 */
export async function newestUserPosition(open: OpenAllRead): Promise<EsdbPosition | null> {
  let from: EsdbPosition | 'end' = 'end';
  let boundary: EsdbPosition | null = null;
  let count = 32;
  for (;;) {
    let read = 0;
    let last: EsdbPosition | null = null;
    for await (const raw of readThenCancel(open(from, count, 'backwards'))) {
      read++;
      if (!raw.event) continue;
      const position = positionOf(raw.event);
      if (!position) continue;
      last = position;
      if (boundary && compareEsdb(position, boundary) >= 0) continue;
      if (!isSystemEvent(raw.event.streamId, raw.event.type)) return position;
    }
    if (read < count || last === null) return null;
    if (boundary && compareEsdb(last, boundary) >= 0)
      throw new Error('EventStoreDB backwards $all read did not advance');
    from = last;
    boundary = last;
    count = Math.min(count * 4, 4096);
  }
}
