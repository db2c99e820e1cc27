import {
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
 * Folds `streamId` onto the events of `alsoRead` (read alongside, in parallel, and not locked:
 * only `streamId`'s revision is expected at the append).
 */
export async function readStreamState<S, E extends DomainEvent>(
  eventStore: EventStore,
  streamId: string,
  fold: Fold<S, E>,
  alsoRead: readonly string[] = [],
): Promise<StreamState<S>> {
  const [recorded, ...others] = await Promise.all(
    [streamId, ...alsoRead].map((id) => eventStore.readStream(id)),
  );
  return {
    state: foldEvents([...others.flat(), ...recorded!], fold),
    expectedRevision: recorded!.at(-1)?.revision ?? 'no_stream',
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
  /** How to read the state: `streamId` folded (on `alsoRead`), or a read of its own (`read`). */
  source:
    { fold: Fold<S, F>; alsoRead?: readonly string[] } | { read: () => Promise<StreamState<S>> };
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
}

export interface Decided<S, E> {
  /** The state the events were decided on. */
  state: S;
  events: E[];
  /** Position of the append, or null when the decision was to append nothing. */
  position: Position | null;
}

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
      : readStreamState(eventStore, command.streamId, source.fold, source.alsoRead);
  let presumed = command.presumeNew === undefined ? null : newStream(command.presumeNew);
  for (let retry = 0; ;) {
    const { state, expectedRevision } = presumed ?? (await read());
    const events = command.decide(state);
    try {
      if (events.length === 0) return { state, events, position: null };
      const { position } = await eventStore.append(
        command.streamId,
        toNewEvents(events, command.metadata, command.eventId),
        { expectedRevision },
      );
      return { state, events, position };
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
    }
  }
}
