import type { RecordedEvent } from '../eventStore/port.ts';
import {
  eventDataSchemas,
  eventMetadataSchema,
  isTweeterEventType,
  type EventMetadata,
  type TweeterEvent,
} from './catalogue.ts';

export type DecodedEvent = TweeterEvent & {
  id: string;
  streamId: string;
  position: RecordedEvent['position'];
  metadata: EventMetadata;
};

/** Thrown when a stored event of a catalogue type does not match its schema. */
export class EventDecodeError extends Error {
  override name = 'EventDecodeError';
}

/**
 * Turns a stored event into a typed catalogue event. Returns null for events that are not part of
 * the public catalogue (internal bookkeeping such as username reservations), which projections skip.
 */
export function decodeEvent(recorded: RecordedEvent): DecodedEvent | null {
  if (!isTweeterEventType(recorded.type)) return null;
  const data = eventDataSchemas[recorded.type].safeParse(recorded.data);
  const metadata = eventMetadataSchema.safeParse(recorded.metadata);
  if (!data.success || !metadata.success) {
    const issue = (data.error ?? metadata.error)?.issues[0];
    throw new EventDecodeError(
      `Event ${recorded.id} (${recorded.type}) at ${recorded.position} does not match the catalogue: ` +
        `${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`,
    );
  }
  return {
    type: recorded.type,
    data: data.data,
    id: recorded.id,
    streamId: recorded.streamId,
    position: recorded.position,
    metadata: metadata.data,
  } as DecodedEvent;
}
