import {
  decodeEvent,
  type DecodedEvent,
  type Logger,
  type Position,
  type RecordedEvent,
} from '@tweeter/shared';
import { CheckpointMovedError, type Projection } from './projection.ts';
import { isTransient } from './transientErrors.ts';

/** A handler failed on one event: the projection stops there. */
export class ProjectionHandlerError extends Error {
  override name = 'ProjectionHandlerError';
  constructor(
    readonly projection: string,
    readonly event: RecordedEvent,
    override readonly cause: unknown,
  ) {
    super(
      `projection ${projection} stopped at event ${event.id} (${event.type}) at position ${event.position}: ` +
        (cause instanceof Error ? cause.message : String(cause)),
    );
  }
}

export interface BatchApplier {
  projection: Projection;
  log: Logger;
  /** Called after each application that committed (the whole batch, or one event of it). */
  applied(events: number, upTo: Position): void;
  /** Called when an application starts and when it ends (failed or not). */
  applying(delta: 1 | -1): void;
}

/**
 * Applies `batch` after checkpoint `from` and returns the new checkpoint. A batch that fails for
 * any reason but a moved checkpoint or a dependency outage is bisected down to the event: applied
 * one event at a time (each application is atomic with its checkpoint), so that the projection
 * stops exactly at the failing event with a `ProjectionHandlerError` naming it, every event before
 * it applied and none after it. An event that cannot be decoded stops it likewise.
 */
export async function applyBatch(
  target: BatchApplier,
  batch: RecordedEvent[],
  from: Position | null,
): Promise<Position> {
  const { projection } = target;
  const upTo = batch[batch.length - 1]!.position;
  target.applying(1);
  try {
    const decoded: DecodedEvent[] = [];
    for (const event of batch) {
      let d: DecodedEvent | null;
      try {
        d = decodeEvent(event);
      } catch (error) {
        // Apply what comes before the undecodable event, then stop on it.
        const index = batch.indexOf(event);
        if (index > 0) await applyBatch(target, batch.slice(0, index), from);
        throw new ProjectionHandlerError(projection.name, event, error);
      }
      if (d) decoded.push(d);
    }
    try {
      await projection.apply(decoded, upTo, from);
    } catch (error) {
      if (error instanceof CheckpointMovedError || isTransient(error)) throw error;
      if (batch.length === 1) throw new ProjectionHandlerError(projection.name, batch[0]!, error);
      // Find the event: apply one at a time (each application is atomic with its checkpoint).
      target.log.warn({ err: error }, 'batch failed; applying its events one by one');
      let position = from;
      for (const event of batch) position = await applyBatch(target, [event], position);
      return upTo;
    }
    target.applied(batch.length, upTo);
    return upTo;
  } finally {
    target.applying(-1);
  }
}
