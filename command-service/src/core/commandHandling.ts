import {
  conflict,
  WrongExpectedRevisionError,
  type EventMetadata,
  type EventStore,
  type Position,
} from '@tweeter/shared';
import { parseEvents, toNewEvents, type DomainEvent, type EventSchemas } from './events.ts';
import type { CommandMetrics } from './metrics.ts';
import { streamCategory } from './streams.ts';

/** State folded from one stream, and the revision to expect when appending to it. */
export interface StreamState<S> {
  state: S;
  expectedRevision: bigint | 'no_stream';
}

export async function readStreamState<S, E extends DomainEvent>(
  eventStore: EventStore,
  streamId: string,
  fold: { schemas: EventSchemas<E>; evolve: (state: S, event: E) => S; initialState: S },
): Promise<StreamState<S>> {
  const recorded = await eventStore.readStream(streamId);
  const last = recorded.at(-1);
  return {
    state: parseEvents(recorded, fold.schemas).reduce(fold.evolve, fold.initialState),
    expectedRevision: last ? last.revision : 'no_stream',
  };
}

/**
 * Runs read → decide → append, re-running it when the append finds that the stream moved on in
 * the meantime. Bounded: under sustained contention the caller gets a 409 rather than a stall.
 */
export async function retryOnConflict<T>(
  options: { command: string; metrics: CommandMetrics; maxRetries: number },
  attempt: () => Promise<T>,
): Promise<T> {
  const { command, metrics, maxRetries } = options;
  for (let retry = 0; ; retry++) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof WrongExpectedRevisionError)) throw error;
      metrics.appendConflicts.inc({ command, stream: streamCategory(error.streamId) });
      if (retry >= maxRetries) {
        metrics.conflictsExhausted.inc({ command });
        throw conflict('The resource was changed concurrently too often; try again');
      }
      metrics.appendRetries.inc({ command });
    }
  }
}

export interface Decided<S, E> {
  /** State after the new events. */
  state: S;
  events: E[];
  /** Position of the append, or null when the decision was to append nothing. */
  position: Position | null;
}

/**
 * One attempt of the common shape: fold one stream, decide, append what was decided at the
 * revision that was read. Wrap it in retryOnConflict.
 */
export async function decideOnStream<S, E extends DomainEvent>(
  eventStore: EventStore,
  streamId: string,
  fold: { schemas: EventSchemas<E>; evolve: (state: S, event: E) => S; initialState: S },
  decide: (state: S) => E[],
  metadata: EventMetadata,
): Promise<Decided<S, E>> {
  const { state, expectedRevision } = await readStreamState(eventStore, streamId, fold);
  const events = decide(state);
  if (events.length === 0) return { state, events, position: null };
  const { position } = await eventStore.append(streamId, toNewEvents(events, metadata), {
    expectedRevision,
  });
  return { state: events.reduce(fold.evolve, state), events, position };
}
