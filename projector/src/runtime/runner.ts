import {
  assertPositionFromStore,
  comparePositions,
  PositionFromAnotherStoreError,
  type EventStore,
  type Logger,
  type Position,
} from '@tweeter/shared';
import { AdvisoryLock, lockName, sleep } from './advisoryLock.ts';
import { applyBatch, ProjectionHandlerError, type BatchApplier } from './applyBatch.ts';
import { ApplyRate, measureLag } from './lagStats.ts';
import type { ProjectorMetrics, RunnerState } from './metrics.ts';
import { CheckpointMovedError, type Projection, type WorkerStatus } from './projection.ts';
import { readAhead } from './readAhead.ts';
import { isEventStoreOutage, isTransient } from './transientErrors.ts';

export interface RunnerOptions {
  projection: Projection;
  eventStore: EventStore;
  /** The PostgreSQL database that holds the advisory locks. */
  databaseUrl: string;
  logger: Logger;
  metrics?: ProjectorMetrics;
  /** Largest batch while catching up. */
  batchSize: number;
  /** How often a standby tries the lock. */
  lockPollMs?: number;
}

/** What /status and `tweeter-admin status` show of one projection. */
export interface RunnerStatus {
  name: string;
  copy: string;
  state: RunnerState;
  checkpoint: Position | null;
  head: Position | null;
  lagEvents: number | null;
  lagSeconds: number | null;
  eventsPerSecond: number;
  errors: number;
  lastError: string | null;
  /** Caught up with the head at least once since this run started (and told the projection). */
  live: boolean;
  /** The projection's workers in this process (the timelines' fan-out partitions it holds). */
  partitions?: WorkerStatus[];
}

/** Setting a projection up failed; retried like a dependency outage. */
export class SetupError extends Error {
  override name = 'SetupError';
  constructor(
    projection: string,
    override readonly cause: unknown,
  ) {
    super(`${projection}: setup failed: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

/**
 * Runs one projection: its own loop, lock, checkpoint and failure. Nothing here waits on another
 * projection, so a stopped or waiting projection never holds back the others.
 *
 * This file is the runner's state machine: standby until the copy's lock is ours, running,
 * waiting with backoff after a dependency outage, restarting when the stored checkpoint moved,
 * failed at a handler error. Applying a batch (and finding a failing event in it) is
 * `applyBatch.ts`; lag and rate figures are `lagStats.ts`.
 */
export class ProjectionRunner {
  private state: RunnerState = 'starting';
  private checkpoint: Position | null = null;
  private head: Position | null = null;
  private lagEvents: number | null = null;
  private lagSeconds: number | null = null;
  private errors = 0;
  private lastError: string | null = null;
  private live = false;
  /** Whether this runner holds its copy's lock now. */
  private lockHeld = false;
  private applying = 0;
  private applies = 0;
  private readonly rate = new ApplyRate();
  private readonly applier: BatchApplier;
  private readonly stopper = new AbortController();
  private attempt: AbortController | undefined;
  private run: AbortController | undefined;
  private readonly lock: AdvisoryLock;
  private done: Promise<void> | undefined;
  private readonly log: Logger;
  /** Tells the projection it caught up, if it has (set while a run subscribes). */
  private announce: (() => Promise<void>) | undefined;

  constructor(private readonly options: RunnerOptions) {
    const { projection } = options;
    this.log = options.logger.child({ projection: projection.name, copy: projection.copy });
    // Export the error counters from the start (0), so that alerts see a series before a failure.
    for (const kind of ['handler', 'transient'])
      options.metrics?.errors.inc({ projection: projection.name, kind }, 0);
    this.lock = new AdvisoryLock(
      options.databaseUrl,
      lockName(projection.name, projection.copy),
      this.log,
    );
    this.applier = {
      projection,
      log: this.log,
      applied: (events, upTo) => {
        this.rate.add(events);
        this.options.metrics?.applied.inc({ projection: projection.name }, events);
        this.setCheckpoint(upTo);
      },
      applying: (delta) => {
        this.applying += delta;
        if (delta < 0) this.applies++;
      },
    };
  }

  get name() {
    return this.options.projection.name;
  }

  get copy() {
    return this.options.projection.copy;
  }

  start(): void {
    this.done ??= this.loop();
    this.options.projection.startWorkers?.();
  }

  async stop(): Promise<void> {
    this.stopper.abort();
    this.attempt?.abort();
    await this.done;
    await this.options.projection.close();
    this.setState('stopped');
  }

  status(): RunnerStatus {
    // A copy whose fan-out partitions lag is complete only as far as the slowest of them.
    const workers = this.options.projection.completeThrough?.();
    const checkpoint =
      workers === undefined || comparePositions(this.checkpoint, workers) <= 0
        ? this.checkpoint
        : workers;
    return {
      name: this.name,
      copy: this.copy,
      state: this.state,
      checkpoint,
      head: this.head,
      lagEvents: this.lagEvents,
      lagSeconds: this.lagSeconds,
      eventsPerSecond: this.rate.perSecond(),
      errors: this.errors,
      lastError: this.lastError,
      live: this.live,
      ...(this.options.projection.workerStatus
        ? { partitions: this.options.projection.workerStatus() }
        : {}),
    };
  }

  private setState(state: RunnerState): void {
    this.state = state;
    this.options.metrics?.setState(this.name, state);
  }

  private async loop(): Promise<void> {
    const signal = this.stopper.signal;
    let backoffMs = 500;
    while (!signal.aborted) {
      // After an event-store outage the state stays `waiting` while the lock is tried again.
      if (this.state !== 'waiting') this.setState('standby');
      const attempt = new AbortController();
      this.attempt = attempt;
      const acquired = await this.lock.acquire(
        signal,
        () => attempt.abort(),
        this.options.lockPollMs,
        () => this.setState('standby'),
      );
      if (!acquired) break;
      this.lockHeld = true;
      this.log.info('lock taken; projecting');
      let gaveUp = false;
      // The lock stays ours while we retry after transient errors and checkpoint moves, except
      // during an event-store outage (see below).
      while (!signal.aborted && !attempt.signal.aborted) {
        // One subscription; aborting `run` alone restarts it under the same lock.
        const run = new AbortController();
        this.run = run;
        const abortRun = () => run.abort();
        attempt.signal.addEventListener('abort', abortRun, { once: true });
        const appliesBefore = this.applies;
        try {
          this.setState('running');
          await this.runOnce(run.signal);
          backoffMs = 500;
        } catch (error) {
          if (signal.aborted || attempt.signal.aborted) break;
          if (run.signal.aborted) continue;
          if (error instanceof CheckpointMovedError) {
            this.log.info(error.message);
            continue;
          }
          // A run that got somewhere before it broke starts the back-off afresh.
          if (this.applies !== appliesBefore || this.live) backoffMs = 500;
          if (isTransient(error) || error instanceof SetupError) {
            this.errors++;
            this.lastError = error instanceof Error ? error.message : String(error);
            this.options.metrics?.errors.inc({ projection: this.name, kind: 'transient' });
            this.setState('waiting');
            this.live = false;
            if (isEventStoreOutage(error)) {
              // The store is unreachable from here (a restart, a leader change, a partition): give
              // the lock up while waiting, so a standby that can reach it takes over; then compete
              // for the lock again and resubscribe from the stored checkpoint.
              this.log.warn(
                { err: error, retryInMs: backoffMs },
                'event store unavailable; lock released while waiting',
              );
              this.lockHeld = false;
              await this.lock.release();
              gaveUp = true;
              await sleep(backoffMs, signal);
              backoffMs = Math.min(backoffMs * 2, 10_000);
              break;
            }
            this.log.warn({ err: error, retryInMs: backoffMs }, 'dependency unavailable; waiting');
            await sleep(backoffMs, attempt.signal);
            backoffMs = Math.min(backoffMs * 2, 10_000);
            continue;
          }
          this.errors++;
          this.lastError = error instanceof Error ? error.message : String(error);
          this.options.metrics?.errors.inc({ projection: this.name, kind: 'handler' });
          this.setState('failed');
          this.log.error(
            { err: error instanceof ProjectionHandlerError ? error.cause : error },
            error instanceof ProjectionHandlerError
              ? error.message
              : error instanceof PositionFromAnotherStoreError
                ? `projection ${this.name} refuses to start: ${this.lastError}`
                : `projection ${this.name} stopped: ${this.lastError}`,
          );
          // Stopped, holding the lock: another process would fail on the same event. A restart
          // (after a fix, or a reset) tries again.
          await new Promise<void>((resolve) => {
            if (signal.aborted) return resolve();
            signal.addEventListener('abort', () => resolve(), { once: true });
          });
        } finally {
          attempt.signal.removeEventListener('abort', abortRun);
        }
      }
      this.lockHeld = false;
      await this.lock.release();
      if (!signal.aborted && !gaveUp) this.log.warn('lock lost; standing by');
    }
  }

  /** Subscribes after the stored checkpoint and applies batches until aborted. */
  private async runOnce(signal: AbortSignal): Promise<void> {
    const { projection, eventStore, batchSize } = this.options;
    this.announce = undefined;
    try {
      await projection.setup();
    } catch (error) {
      // Setup touches no event: whatever failed (a dependency, a race of two starters), try again.
      throw new SetupError(projection.name, error);
    }
    let checkpoint = await projection.checkpoint();
    // A checkpoint of the other kind of store (the deployment switched stores): refuse, with what
    // to do, rather than hand it to this store as one of its positions.
    assertPositionFromStore(eventStore.kind, checkpoint);
    this.setCheckpoint(checkpoint);
    this.live = false;
    let announced = false;
    const announceIfCaughtUp = async () => {
      // Ask the log before telling the projection (a short batch is only a hint).
      const head = await eventStore.headPosition();
      this.head = head;
      if (comparePositions(head, checkpoint) > 0) return;
      this.lagEvents = 0;
      this.lagSeconds = 0;
      if (announced) return;
      await projection.caughtUp?.(checkpoint);
      announced = true;
      this.live = true;
      this.log.info({ checkpoint }, 'caught up');
    };
    await announceIfCaughtUp();
    // A short batch read while the head was still ahead of what the log let us see (commits
    // become visible in order) is the last one until new events arrive: `tick` asks again.
    this.announce = announceIfCaughtUp;
    const batches = readAhead(eventStore.subscribe({ after: checkpoint, batchSize, signal }));
    // Once announced, asking the log's head only refreshes the lag: the next batch does not wait
    // for it (one query at a time; a failing one is retried by the next short batch, and an
    // outage of the store surfaces in the subscription's next read).
    let asking: Promise<void> | undefined;
    for await (const batch of batches) {
      if (signal.aborted) break;
      checkpoint = await applyBatch(this.applier, batch, checkpoint);
      if (batch.length >= batchSize) continue;
      if (!announced) await announceIfCaughtUp();
      else
        asking ??= announceIfCaughtUp()
          .catch(() => undefined)
          .finally(() => {
            asking = undefined;
          });
    }
    await asking;
  }

  private reportedPartitions = new Set<string>();
  private reportedEntries = 0;

  /** Lag of the partitions this process holds, and the fan-out entries written since last time. */
  private async measurePartitions(metrics: ProjectorMetrics): Promise<void> {
    const { eventStore, projection } = this.options;
    const entries = projection.fanoutEntries?.();
    if (entries !== undefined && entries > this.reportedEntries) {
      metrics.fanoutEntries.inc({ projection: this.name }, entries - this.reportedEntries);
      this.reportedEntries = entries;
    }
    const held = (projection.workerStatus?.() ?? []).filter((p) => p.state === 'held');
    const now = new Set(held.map((p) => String(p.partition)));
    for (const partition of this.reportedPartitions)
      if (!now.has(partition)) {
        metrics.partitionLagEvents.remove({ projection: this.name, partition });
        metrics.partitionLagSeconds.remove({ projection: this.name, partition });
      }
    this.reportedPartitions = now;
    for (const worker of held) {
      try {
        const { lagEvents, lagSeconds } = await measureLag(eventStore, worker.checkpoint);
        const labels = { projection: this.name, partition: String(worker.partition) };
        metrics.partitionLagEvents.set(labels, lagEvents);
        metrics.partitionLagSeconds.set(labels, lagSeconds);
      } catch (error) {
        this.log.debug({ err: error, partition: worker.partition }, 'could not measure lag');
      }
    }
  }

  private setCheckpoint(position: Position | null): void {
    this.checkpoint = position;
    this.options.metrics?.setCheckpoint(this.name, this.copy, position);
  }

  /**
   * Refreshes lag figures, and notices when the stored checkpoint moved under us (a reset, a
   * flushed Redis): the attempt then restarts from the stored one. Called about once a second.
   */
  async tick(head: Position | null): Promise<void> {
    const { eventStore, projection, metrics } = this.options;
    this.head = head;
    // Fan-out partitions are applied by whichever process holds them, runner or not.
    if (metrics) await this.measurePartitions(metrics);
    if (this.state !== 'running' && this.state !== 'waiting') return;
    if (!this.lockHeld) return;
    try {
      await this.lock.check();
    } catch (error) {
      this.log.warn({ err: error }, 'lock session lost; standing by');
      this.attempt?.abort();
      return;
    }
    if (this.state !== 'running') return;
    const checkpoint = this.checkpoint;
    const applies = this.applies;
    if (!this.live && this.applying === 0 && comparePositions(head, checkpoint) <= 0)
      await this.announce?.().catch((error: unknown) =>
        this.log.debug({ err: error }, 'could not announce the catch-up'),
      );
    try {
      if (this.applying === 0) {
        const stored = await projection.checkpoint();
        if (this.applying === 0 && this.applies === applies && stored !== checkpoint) {
          this.log.info({ stored, checkpoint }, 'stored checkpoint moved; restarting');
          this.run?.abort();
          return;
        }
      }
      const { lagEvents, lagSeconds } = await measureLag(eventStore, checkpoint);
      this.lagEvents = lagEvents;
      this.lagSeconds = lagSeconds;
      metrics?.lagEvents.set({ projection: this.name }, lagEvents);
      metrics?.lagSeconds.set({ projection: this.name }, lagSeconds);
      metrics?.eventsPerSecond.set({ projection: this.name }, this.rate.perSecond());
    } catch (error) {
      this.log.debug({ err: error }, 'could not refresh lag');
    }
  }
}
