import { setTimeout as sleep } from 'node:timers/promises';
import {
  readUserStreamEnds,
  WrongExpectedRevisionError,
  type EventMetadata,
  type EventStore,
  type Position,
  type RecordedEvent,
} from '@tweeter/shared';
import { Conflict } from '../domain/errors.ts';
import type { CommandContext } from './context.ts';
import { parseEvents, toNewEvents, type DomainEvent, type EventSchemas } from './events.ts';
import { streamCategory } from './streams.ts';

/** How the events of a stream fold into the state a decider decides on. */
export interface Fold<S, E extends DomainEvent> {
  schemas: EventSchemas<E>;
  evolve: (state: S, event: E) => S;
  initialState: S;
}

export const foldEvents = <S, E extends DomainEvent>(
  recorded: readonly RecordedEvent[],
  fold: Fold<S, E>,
): S => parseEvents(recorded, fold.schemas).reduce(fold.evolve, fold.initialState);

/** State folded from one stream, and the revision to expect when appending to it. */
export interface StreamState<S> {
  state: S;
  expectedRevision: bigint | 'no_stream';
}

/** A stream that does not exist yet, as an attempt presumes it. */
const newStream = <S>(state: S): StreamState<S> => ({ state, expectedRevision: 'no_stream' });

/**
 * Every event of a stream from `fromRevision` (default: its start) in revision order, read a page
 * at a time (a user's stream holds its tweets).
 */
export async function readWholeStream(
  eventStore: Pick<EventStore, 'readStream'>,
  streamId: string,
  { fromRevision = 0n, pageSize = 10_000 }: { fromRevision?: bigint; pageSize?: number } = {},
): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  for (;;) {
    const from = events.length === 0 ? fromRevision : events.at(-1)!.revision + 1n;
    const page = await eventStore.readStream(streamId, { fromRevision: from, maxCount: pageSize });
    events.push(...page);
    if (page.length < pageSize) return events;
  }
}

/**
 * Reads a stream backwards, newest first, a page at a time, until `stop` accepts an event (which
 * is returned) or the stream's start. `head` is the newest event, as of the first page: what an
 * append decided on this scan expects (its revision).
 */
export async function scanBackwards(
  eventStore: Pick<EventStore, 'readStream'>,
  streamId: string,
  stop: (event: RecordedEvent) => boolean,
  pageSize = 100,
): Promise<{ head: RecordedEvent | undefined; stoppedAt: RecordedEvent | undefined }> {
  let head: RecordedEvent | undefined;
  let fromRevision: bigint | undefined;
  for (;;) {
    const page = await eventStore.readStream(streamId, {
      direction: 'backwards',
      maxCount: pageSize,
      ...(fromRevision !== undefined ? { fromRevision } : {}),
    });
    head ??= page[0];
    for (const event of page) if (stop(event)) return { head, stoppedAt: event };
    const oldest = page.at(-1);
    if (page.length < pageSize || oldest === undefined || oldest.revision === 0n)
      return { head, stoppedAt: undefined };
    fromRevision = oldest.revision - 1n;
  }
}

/**
 * Folds `streamId` (read whole) onto the ends of the user streams of `alsoReadUsers` (read
 * alongside, in parallel, and not locked: only `streamId`'s revision is expected at the append).
 * A user stream's ends say whether the user exists and is active (see readUserStreamEnds), however
 * many tweets it holds.
 */
export async function readStreamState<S, E extends DomainEvent>(
  eventStore: EventStore,
  streamId: string,
  fold: Fold<S, E>,
  alsoReadUsers: readonly string[] = [],
): Promise<StreamState<S>> {
  const [recorded, ...others] = await Promise.all([
    readWholeStream(eventStore, streamId),
    ...alsoReadUsers.map((userId) => readUserStreamEnds(eventStore, userId)),
  ]);
  return {
    state: foldEvents([...others.flat(), ...recorded], fold),
    expectedRevision: recorded.at(-1)?.revision ?? 'no_stream',
  };
}

/**
 * One command on one stream: what it reads, how it decides, what its events carry. `F` are the
 * events the state folds, `E` those the command decides (the same, or fewer).
 */
export interface CommandHandling<S, E extends DomainEvent, F extends DomainEvent = E> {
  /** Metrics label of the command. */
  name: string;
  /** The stream the decided events are appended to, at the revision read. */
  streamId: string;
  /**
   * How to read the state: `streamId` folded (on the users of `alsoReadUsers`), or a read of its
   * own (`read`).
   */
  source:
    | { fold: Fold<S, F>; alsoReadUsers?: readonly string[] }
    | { read: () => Promise<StreamState<S>> };
  /** The decider: the events to append, none for a no-op; throws a DomainError to refuse. */
  decide: (state: S) => E[];
  metadata: EventMetadata;
  /** Event ids, derived by a command with an Idempotency-Key; random otherwise. */
  eventId?: (event: DomainEvent, index: number) => string;
  /**
   * The state of `streamId` presumed new: the first attempt decides on it without reading. A
   * stream that exists after all is no concurrency conflict, just a presumption that failed: it
   * is read and decided again without counting a conflict or a retry.
   */
  presumeNew?: S;
  /**
   * Like presumeNew, for a state known from earlier (a cached one) at the revision it was known
   * at: the first attempt decides on it without reading, and if the stream moved on since, the
   * append says so and the state is read and decided again, again without counting a conflict.
   */
  presumed?: StreamState<S>;
}

export interface Decided<S, E> {
  /** The state the events were decided on. */
  state: S;
  events: E[];
  /** Position of the append, or null when the decision was to append nothing. */
  position: Position | null;
  /** The stream's revision after the append, or null when nothing was appended. */
  nextRevision: bigint | null;
}

/**
 * The retry budget of a command on the acting user's own stream (a post, the user's deletion):
 * four times the usual. Its only contenders are that user's own requests (through other instances)
 * and a retry rereads little, so it tries on rather than answer 409 to a user posting from two
 * devices at once.
 */
export const onOwnStream = <C extends Pick<CommandContext, 'maxConflictRetries'>>(ctx: C): C => ({
  ...ctx,
  maxConflictRetries: ctx.maxConflictRetries * 4,
});

/**
 * The one path of every command: read → decide → append at the revision that was read, re-run
 * when the append finds that the stream moved on in the meantime. Bounded: under sustained
 * contention the caller gets a 409 rather than a stall.
 */
export async function handleCommand<S, E extends DomainEvent, F extends DomainEvent = E>(
  ctx: Pick<CommandContext, 'eventStore' | 'metrics' | 'maxConflictRetries'>,
  command: CommandHandling<S, E, F>,
): Promise<Decided<S, E>> {
  const { eventStore, metrics } = ctx;
  const { source } = command;
  const read = () =>
    'read' in source
      ? source.read()
      : readStreamState(eventStore, command.streamId, source.fold, source.alsoReadUsers);
  let presumed =
    command.presumed ?? (command.presumeNew === undefined ? null : newStream(command.presumeNew));
  for (let retry = 0; ;) {
    const { state, expectedRevision } = presumed ?? (await read());
    const events = command.decide(state);
    try {
      if (events.length === 0) return { state, events, position: null, nextRevision: null };
      const { position, nextRevision } = await eventStore.append(
        command.streamId,
        toNewEvents(events, command.metadata, command.eventId),
        { expectedRevision },
      );
      metrics.eventsAppended.inc({ command: command.name }, events.length);
      return { state, events, position, nextRevision };
    } catch (error) {
      if (!(error instanceof WrongExpectedRevisionError)) throw error;
      if (presumed !== null) {
        presumed = null;
        continue;
      }
      metrics.appendConflicts.inc({
        command: command.name,
        stream: streamCategory(error.streamId),
      });
      if (retry >= ctx.maxConflictRetries) {
        metrics.conflictsExhausted.inc({ command: command.name });
        throw new Conflict('The resource was changed concurrently too often; try again');
      }
      retry++;
      metrics.appendRetries.inc({ command: command.name });
      // Jittered, growing pauses (up to 2, 4, 8, … ms, never more than 32): contenders that keep
      // landing in the same instant (a user's posts and that user's deletion) stop colliding.
      await sleep(Math.random() * Math.min(2 ** retry, 32));
    }
  }
}
