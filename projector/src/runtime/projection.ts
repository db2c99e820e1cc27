import type { DecodedEvent, Position } from '@tweeter/shared';

/** The projections of the product. */
export const projectionNames = ['read-model', 'timelines', 'integration-events'] as const;
export type ProjectionName = (typeof projectionNames)[number];

export function isProjectionName(name: string): name is ProjectionName {
  return (projectionNames as readonly string[]).includes(name);
}

/**
 * One projection: a named consumer of the global log with a checkpoint of its own.
 *
 * `apply` must make the batch's effects and the new checkpoint land together (one Postgres
 * transaction; for Redis, idempotent effects followed by the checkpoint, or MULTI), so that a crash
 * at any instant leaves no effect lost and none doubled when the batch is applied again.
 */
export interface Projection {
  readonly name: ProjectionName;
  /**
   * Where this instance writes: the read model's schema, the timelines' key version, the
   * integration events' stream. Two copies of one projection are independent (own checkpoint,
   * own lock), which is what a zero-downtime rebuild or a verify builds on.
   */
  readonly copy: string;
  /** Creates what the projection needs (schema, stream, config); safe to call on every start. */
  setup(): Promise<void>;
  /** The position of the last event applied, or null when nothing was applied yet. */
  checkpoint(): Promise<Position | null>;
  /**
   * Applies `events` (catalogue events only, in log order) and sets the checkpoint to `upTo`,
   * which may lie past the last of them (internal events are skipped but still passed).
   *
   * `from` is the checkpoint the caller believes is stored; an implementation refuses with
   * `CheckpointMovedError` when the stored one differs (another writer, a reset, a flush), so that
   * a stale writer can never double or skip effects.
   */
  apply(events: DecodedEvent[], upTo: Position, from: Position | null): Promise<void>;
  /** Called when the projection has caught up with the head of the log (may be called again). */
  caughtUp?(position: Position | null): Promise<void>;
  /** Deletes the projection's data and checkpoint: it rebuilds from the start. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

/** The stored checkpoint is not the one the writer started from; start over from the stored one. */
export class CheckpointMovedError extends Error {
  override name = 'CheckpointMovedError';
  constructor(
    readonly projection: string,
    readonly expected: Position | null,
    readonly actual: Position | null,
  ) {
    super(
      `${projection}: checkpoint moved (expected ${expected ?? 'start'}, found ${actual ?? 'start'})`,
    );
  }
}
