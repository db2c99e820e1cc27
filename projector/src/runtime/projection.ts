import type pg from 'pg';
import type { Config, DecodedEvent, Logger, Position } from '@tweeter/shared';

/**
 * One projection: a named consumer of the global log with a checkpoint of its own.
 *
 * `apply` must make the batch's effects and the new checkpoint land together (one Postgres
 * transaction; for Redis, idempotent effects followed by the checkpoint), so that a crash
 * at any instant leaves no effect lost and none doubled when the batch is applied again.
 */
export interface Projection {
  /** The name of its declaration (`ProjectionDeclaration.name`). */
  readonly name: string;
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
  /**
   * Like `apply`, but may resolve once the batch is planned and being written, before it landed:
   * a replay in the foreground then reads and plans the next batch meanwhile. The next batch
   * handed over is written after it (and fails if it failed); `settle` waits for the last.
   */
  applyAhead?(events: DecodedEvent[], upTo: Position, from: Position | null): Promise<void>;
  /** Resolves once every batch handed to `applyAhead` landed; rejects with the first failure. */
  settle?(): Promise<void>;
  /**
   * Starts what the projection runs in every process that follows the copy, whether it applies
   * the log or stands by (the timelines' partition appliers); stopped by `close`.
   */
  startWorkers?(): void;
  /** What those workers do now (`/status`, `tweeter-admin status`). */
  workerStatus?(): WorkerStatus[];
  /** Entries this process's steps have sent into home timelines so far (fan-out, for metrics). */
  fanoutEntries?(): number;
  /**
   * How far the workers have carried the copy (the least of the partitions' checkpoints), when
   * they carry part of it; undefined otherwise. The copy is complete up to the lesser of this and
   * the checkpoint.
   */
  completeThrough?(): Position | null | undefined;
  /** Called when the projection has caught up with the head of the log (may be called again). */
  caughtUp?(position: Position | null): Promise<void>;
  /** Deletes the projection's data and checkpoint: it rebuilds from the start. */
  reset(): Promise<void>;
  /**
   * Resets the copy while another process holds its lock (a running projector): deletes only what
   * makes that writer start over (its checkpoint), and leaves the rest to it, wiped under its lock
   * when it starts over; a wipe from here would race with its rebuild and delete what it writes.
   * Without it, `reset` (a projection whose reset and checkpoint change in one transaction).
   */
  resetBeside?(): Promise<void>;
  close(): Promise<void>;
}

/** One worker of a projection in this process, e.g. a timelines fan-out partition. */
export interface WorkerStatus {
  partition: number;
  state: 'held' | 'free';
  checkpoint: Position | null;
  chunks: number;
}

/** A projection one of several copies of which can exist: a copy can also be removed whole. */
export interface CopiedProjection extends Projection {
  /** Removes the whole copy (schema, key version): a rebuild's old copy, a verify's scratch copy. */
  drop(): Promise<void>;
}

/** What creating a projection may use: the services' configuration, the database, the logger. */
export interface ProjectionDeps {
  config: Pick<
    Config,
    | 'REDIS_URL'
    | 'REDIS_PREFIX'
    | 'NATS_URL'
    | 'NATS_PREFIX'
    | 'NATS_STREAM_REPLICAS'
    | 'FANOUT_MAX_FOLLOWERS'
  > &
    Partial<
      Pick<
        Config,
        'REDIS_CLUSTER_NODES' | 'TIMELINES_PARTITIONS' | 'DATABASE_URL' | 'TIMELINE_STREAM_LENGTH'
      >
    >;
  /** The read model's and the checkpoints' database. */
  pool: pg.Pool;
  logger: Logger;
  /**
   * Write everything from the process applying the log, partitions or not (the admin CLI's
   * replays and rebuilds, which no projector process helps).
   */
  inline?: boolean;
}

/** One row or key that differs between a live copy and a rebuild (`tweeter-admin verify`). */
export interface Difference {
  /** e.g. `users 0190…`, `home:{0190…}`. */
  what: string;
  /** e.g. `missing from the live copy`, `display_name: live "x", rebuilt "y"`. */
  how: string;
}

/** A live copy's data as of one checkpoint, held in memory to be compared with a rebuild. */
export interface LiveSnapshot {
  checkpoint: Position | null;
  /** Compares it with `copy`, which nobody writes (the rebuild): live against rebuilt. */
  compareWith(copy: string): Promise<{ differences: Difference[]; compared: number }>;
}

interface DeclarationBase<Name extends string> {
  /** The projection's name: its lock, checkpoint, metrics label and CLI argument. */
  readonly name: Name;
  /** Largest batch while catching up: as large as the target digests well. */
  readonly catchUpBatchSize: number;
}

/**
 * A projection with rebuildable copies: the copy readers use is named in
 * `projections.active_copies`, and `tweeter-admin rebuild` / `verify` build others beside it.
 */
export interface CopiedProjectionDeclaration<
  Name extends string = string,
> extends DeclarationBase<Name> {
  readonly copies: {
    /** The copy used while the registry names none. */
    readonly default: string;
    /** A rebuild's new copy, from its start time as `yyyymmddhhmmss` (sortable, readable). */
    rebuildName(stamp: string): string;
    /** A verify's scratch copy, from a random hex tag: a name no reader or projector follows. */
    scratchName(tag: string): string;
  };
  /** The projection writing into `copy`. */
  create(copy: string, deps: ProjectionDeps): CopiedProjection;
  /**
   * `verify`: the live copy's data and the checkpoint it reflects, read at one consistent instant
   * while a projector may be writing it (`projection` writes that copy).
   */
  snapshotLive(projection: Projection, deps: ProjectionDeps): Promise<LiveSnapshot>;
}

/**
 * A projection with one fixed copy (the integration events' stream, fixed by NATS_PREFIX): no
 * registry row, nothing to rebuild beside it or verify.
 */
export interface SingleCopyProjectionDeclaration<
  Name extends string = string,
> extends DeclarationBase<Name> {
  readonly copies: false;
  /** Why `verify` refuses it, e.g. `its copy is a stream of published messages, …`. */
  readonly notVerifiable: string;
  /** What to run instead of `rebuild`, e.g. `rebuild it with \`reset …\``. */
  readonly rebuildInstead: string;
  /** The projection; `copy` is ignored (the copy is fixed). */
  create(copy: string, deps: ProjectionDeps): Projection;
}

export type ProjectionDeclaration<Name extends string = string> =
  CopiedProjectionDeclaration<Name> | SingleCopyProjectionDeclaration<Name>;

/**
 * Declares a projection as one value: its name, copies, catch-up batch size and factory. Each
 * projection's folder exports one; `registry.ts` lists them.
 */
export function defineProjection<const Name extends string>(
  declaration: CopiedProjectionDeclaration<Name>,
): CopiedProjectionDeclaration<Name>;
export function defineProjection<const Name extends string>(
  declaration: SingleCopyProjectionDeclaration<Name>,
): SingleCopyProjectionDeclaration<Name>;
export function defineProjection(declaration: ProjectionDeclaration): ProjectionDeclaration {
  return Object.freeze(declaration);
}

export const hasCopies = <D extends ProjectionDeclaration>(
  declaration: D,
): declaration is Extract<D, { copies: object }> => declaration.copies !== false;

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
