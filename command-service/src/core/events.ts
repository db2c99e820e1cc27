import { randomUUID } from 'node:crypto';
import type { EventMetadata, NewEvent, RecordedEvent } from '@tweeter/shared';
import type { z } from 'zod';

/** A domain event before it is stored: a string-literal-tagged union member. */
export interface DomainEvent {
  type: string;
  data: unknown;
}

/** Zod schema per event type a stream may hold, including internal bookkeeping types. */
export type EventSchemas<E extends DomainEvent> = {
  [T in E['type']]: z.ZodType<Extract<E, { type: T }>['data']>;
};

/**
 * Turns the stored events of one stream into domain events. Types the stream does not know are
 * skipped, so a stream can later carry events this version does not care about.
 */
export function parseEvents<E extends DomainEvent>(
  recorded: readonly RecordedEvent[],
  schemas: EventSchemas<E>,
): E[] {
  const events: E[] = [];
  for (const r of recorded) {
    if (!Object.hasOwn(schemas, r.type)) continue;
    const schema = schemas[r.type as E['type']];
    events.push({ type: r.type, data: schema.parse(r.data) } as E);
  }
  return events;
}

/** What every event of one command carries (the catalogue's metadata). */
export function eventMetadata(options: {
  requestId: string;
  actorId: string | null;
  now: Date;
}): EventMetadata {
  return {
    schemaVersion: 1,
    correlationId: options.requestId,
    causationId: options.requestId,
    actorId: options.actorId,
    occurredAt: options.now.toISOString(),
  };
}

/**
 * Domain events → events to append. Ids are random unless the command derives them (an
 * Idempotency-Key), in which case a retry appends the same ids and the store ignores it.
 */
export function toNewEvents(
  events: DomainEvent[],
  metadata: EventMetadata,
  idOf: (event: DomainEvent, index: number) => string = () => randomUUID(),
): NewEvent[] {
  return events.map((event, index) => ({
    id: idOf(event, index),
    type: event.type,
    data: event.data,
    metadata,
  }));
}
