import { hostname } from 'node:os';
import {
  defaultTimelineStreamLength,
  homeLayout,
  homeTimelineCap,
  timelineKeys,
  timelineStreamChannel,
  type DecodedEvent,
  type Logger,
  type Position,
  type RedisServers,
  type TimelineKeys,
} from '@tweeter/shared';
import type { CopiedProjection, WorkerStatus } from '../runtime/projection.ts';
import { drainPartitions } from './partitions/partitionApplier.ts';
import { PartitionPool } from './partitions/partitionPool.ts';
import { TimelineConnections } from './connections.ts';
import { CopyKeys } from './copyKeys.ts';
import { FollowGraphCache } from './followGraphCache.ts';
import { raiseListpackLimit } from './listpack.ts';
import { StepWriter, type ScriptedRedis } from './stepWriter.ts';
import { applyInSteps } from './steps.ts';

/** Writes per step while the copy is live, and while it is being built (see `stepCommands`). */
const liveStepCommands = 20_000;
const catchUpStepCommands = 1_000_000;

/** The owner a partition's hash names after chunks applied by a replay that writes homes itself. */
const inlineOwner = `replay:${hostname()}:${process.pid}`;

/** A fan-out partition as its keys say (`tweeter-admin status`). */
export interface StoredPartition {
  partition: number;
  /** The process that last applied a chunk of it (host:pid:tag). */
  owner: string | null;
  checkpoint: Position | null;
  /** When it last applied a chunk (ms). */
  at: number | null;
  /** Chunks published and not applied yet. */
  pending: number;
}

export interface TimelinesOptions {
  /** REDIS_URL, or REDIS_CLUSTER_NODES for a Redis Cluster. */
  redis: RedisServers;
  /** REDIS_PREFIX: every key lives under it. */
  redisPrefix: string;
  /** The copy: the key version (keys `tl:<version>:…`). */
  version: string;
  fanoutMaxFollowers: number;
  logger: Logger;
  /** Home timeline cap (800). */
  cap?: number;
  /**
   * Writes per step: a batch above it is written in several steps, each with its checkpoint
   * (default: 20,000 while the copy is live, 1,000,000 while it is being built).
   */
  maxCommandsPerStep?: number;
  /** Members of the cached follow graph above which the cache is dropped and reloaded on demand. */
  cacheLimit?: number;
  /** TIMELINES_PARTITIONS: the fan-out partitions of a new copy (0: homes written inline). */
  partitions?: number;
  /** Write homes inline even when the copy has partitions (the admin CLI's replays). */
  inline?: boolean;
  /** The database of the partitions' locks: needed to run partition appliers (`startWorkers`). */
  databaseUrl?: string;
  /** TIMELINE_STREAM_LENGTH: entries each home stream keeps (0: none written). */
  streamLength?: number;
}

/**
 * `timelines` → Redis (one server or a Redis Cluster): the projection port over its parts. Each
 * batch is planned (plan.ts, the rules in rules/) against what it reads (followGraphCache.ts)
 * and written in steps (steps.ts), each step's homes first, then its shared effects, then its
 * checkpoint (stepWriter.ts): exactly once in effect without a transaction across keys.
 */
export class TimelinesProjection implements CopiedProjection {
  readonly name = 'timelines' as const;
  readonly copy: string;
  readonly keys: TimelineKeys;
  private readonly connections: TimelineConnections;
  private readonly graph: FollowGraphCache;
  private readonly writer: StepWriter;
  private readonly copyKeys: CopyKeys;
  private readonly cap: number;
  private pool: PartitionPool | undefined;
  /** The partition appliers' own connection (see `startWorkers`). */
  private applierConnections: TimelineConnections | undefined;
  /** The landing of the last batch handed to `applyAhead`, when it was not settled yet. */
  private ahead: Promise<void> | undefined;

  constructor(private readonly options: TimelinesOptions) {
    this.copy = options.version;
    this.keys = timelineKeys(options.version);
    this.cap = options.cap ?? homeTimelineCap;
    this.connections = new TimelineConnections(options.redis, options.redisPrefix, options.logger);
    const redis = this.connections.redis;
    this.graph = new FollowGraphCache(redis, this.keys, this.cap, options.cacheLimit);
    this.writer = new StepWriter(
      redis,
      this.keys,
      this.cap,
      options.partitions ?? 0,
      options.inline ?? false,
      {
        length: options.streamLength ?? defaultTimelineStreamLength,
        channel: timelineStreamChannel(options.redisPrefix, this.keys),
      },
    );
    this.copyKeys = new CopyKeys(options.redis, options.redisPrefix, this.keys);
  }

  /** Fan-out entries sent to home timelines by posts, for the benchmark. */
  get stats(): { readonly entries: number } {
    return this.writer.stats;
  }

  fanoutEntries(): number {
    return this.writer.stats.entries;
  }

  /** Applies this process's share of the copy's fan-out partitions, if it has any. */
  startWorkers(): void {
    const { databaseUrl, inline } = this.options;
    if (!databaseUrl || inline) return;
    // A connection of their own: the planner's commands (its step's meta updates) then wait for
    // the server's turn between the appliers' calls, not behind every one of them on one socket.
    const { redis, redisPrefix, logger } = this.options;
    this.applierConnections ??= new TimelineConnections(redis, redisPrefix, logger);
    this.pool ??= new PartitionPool({
      connection: this.applierConnections.redis as ScriptedRedis,
      redis: this.options.redis,
      redisPrefix: this.options.redisPrefix,
      keys: this.keys,
      copy: this.copy,
      cap: this.cap,
      databaseUrl,
      logger: this.options.logger,
    });
    this.pool.start();
  }

  completeThrough(): Position | null | undefined {
    if (!this.pool) return undefined;
    const through = this.pool.completeThrough();
    // The planner has given the copy partitions the pool has not seen yet (its next tick reads
    // them): their homes are complete through nothing so far.
    return through === undefined && this.writer.partitionCount > 0 ? null : through;
  }

  /** Each fan-out partition as stored: last owner, checkpoint, chunks not applied yet. */
  async partitions(): Promise<StoredPartition[]> {
    const redis = this.connections.redis;
    const count = Number((await redis.hget(this.keys.meta, 'partitions')) ?? 0);
    return Promise.all(
      Array.from({ length: count }, async (_, partition) => {
        const [[owner, checkpoint, at], pending] = await Promise.all([
          redis.hmget(this.keys.partition(partition), 'owner', 'checkpoint', 'at'),
          redis.xlen(this.keys.fanout(partition)),
        ]);
        return {
          partition,
          owner: owner ?? null,
          checkpoint: (checkpoint ?? null) as Position | null,
          at: at == null ? null : Number(at),
          // The stream keeps the last chunk applied; the rest wait.
          pending: Math.max(0, pending - (checkpoint == null ? 0 : 1)),
        };
      }),
    );
  }

  workerStatus(): WorkerStatus[] {
    return this.pool?.status() ?? [];
  }

  async setup(): Promise<void> {
    // The runner sets up again whenever it (re)starts from the stored checkpoint, e.g. after a
    // flush or reset: the cached follow graph describes the old state and must not plan the replay.
    this.graph.drop();
    const redis = this.connections.redis;
    if (redis.status === 'wait') await redis.connect();
    await raiseListpackLimit(redis, this.options.logger);
    const [stored, layout] = await redis.hmget(this.keys.meta, 'checkpoint', 'layout');
    if (stored !== null && layout !== homeLayout) {
      // Written by an earlier version in an earlier home layout (homes oldest first, or per-user
      // hash tags): rebuilt from the log, and read from PostgreSQL meanwhile (the query service
      // reads only this layout).
      this.options.logger.warn(
        `timelines: copy ${this.copy} has homes in layout ${layout ?? '1'}, not ${homeLayout}; rebuilding it from the log`,
      );
      await this.copyKeys.deleteAll();
    }
    if (await this.writer.recover())
      this.options.logger.info('timelines: finished the shared effects of an interrupted step');
    // No checkpoint: a new copy, or one flushed or reset while a step was being written, whose
    // keys written after the flush would be taken for the state of the log. Start from nothing.
    if ((await this.checkpoint()) === null) {
      if (await this.copyKeys.any()) {
        this.options.logger.warn(
          `timelines: copy ${this.copy} has keys but no checkpoint; wiping it`,
        );
        await this.copyKeys.deleteAll();
      }
      this.graph.startEmpty();
    }
    // Homes written here (the admin CLI's replay) start from every chunk applied: see drainPartitions.
    if (this.options.inline && this.writer.partitionCount > 0) {
      const drained = await drainPartitions(
        {
          writer: redis as ScriptedRedis,
          keys: this.keys,
          cap: this.cap,
          channel: timelineStreamChannel(this.options.redisPrefix, this.keys),
          owner: inlineOwner,
        },
        this.writer.partitionCount,
      );
      if (drained > 0)
        this.options.logger.info(
          `timelines: applied ${drained} fan-out chunks that no applier had applied yet`,
        );
    }
  }

  async checkpoint(): Promise<Position | null> {
    return ((await this.connections.redis.hget(this.keys.meta, 'checkpoint')) ??
      null) as Position | null;
  }

  async apply(events: DecodedEvent[], upTo: Position, from: Position | null): Promise<void> {
    await this.applyAhead(events, upTo, from);
    await this.settle();
  }

  /**
   * Plans the batch while the previous one (handed over here too) may still be landing, and
   * resolves once its last step is being written: the previous batch then landed. What the plan
   * reads of the shared keys waits for that landing, unless the cache knows it already (a build
   * from the start of the log, see followGraphCache.ts); the batch's first step is written after
   * it. A failure of either batch is thrown here or by `settle`.
   */
  async applyAhead(events: DecodedEvent[], upTo: Position, from: Position | null): Promise<void> {
    const after = this.ahead;
    this.ahead = undefined;
    try {
      const { landed } = await applyInSteps(events, upTo, from, {
        inputs: await this.graph.loadFor(events, after),
        plan: { fanoutMaxFollowers: this.options.fanoutMaxFollowers, cap: this.cap },
        maxCommands: this.options.maxCommandsPerStep ?? this.stepCommands(),
        writer: this.writer,
        after,
      });
      // Thrown by the next applyAhead or settle, which await it.
      landed.catch(() => undefined);
      this.ahead = landed;
    } catch (error) {
      // Nothing is left running behind the failure.
      await after?.catch(() => undefined);
      // The cache was updated while planning what may not have been committed.
      this.graph.drop();
      throw error;
    }
  }

  /** Resolves once every batch handed to `applyAhead` landed; rejects with the first failure. */
  async settle(): Promise<void> {
    const ahead = this.ahead;
    this.ahead = undefined;
    try {
      await ahead;
    } catch (error) {
      this.graph.drop();
      throw error;
    }
  }

  /**
   * While the copy is live, a step stays small: readers wait for its checkpoint. While it is being
   * built nobody reads it, and larger steps cost less per entry: fewer script calls (each home
   * gets more entries per call) and fewer writes of the same shared keys; but for a copy whose
   * homes are written by fan-out partitions.
   */
  private stepCommands(): number {
    // With fan-out partitions each step is one chunk per partition, which its applier writes in
    // one go: a large chunk would hold up the partition's homes (and what follows) for seconds.
    const chunked = this.writer.partitionCount > 0 && !this.options.inline;
    return this.writer.isLive || chunked ? liveStepCommands : catchUpStepCommands;
  }

  /**
   * Marks the copy live only if it still holds the checkpoint the runner caught up at: after a
   * flush or reset, an unconditional HSET would recreate `meta` with `live` alone and readers would
   * trust an empty copy.
   */
  async caughtUp(position: Position | null): Promise<void> {
    await (this.connections.redis as ScriptedRedis).timelinesLive(this.keys.meta, position ?? '');
    this.writer.markLive();
  }

  /** Every key of this copy, with REDIS_PREFIX (for reset, drop and comparisons). */
  scanKeys(): AsyncGenerator<string[]> {
    return this.copyKeys.scan();
  }

  /**
   * Deletes every key of this copy (data and checkpoint). Call it holding the copy's lock (the
   * admin CLI does): the checkpoint goes first, so a writer in between fails its next step.
   */
  async reset(): Promise<void> {
    await this.copyKeys.deleteAll();
    this.graph.drop();
  }

  /**
   * The copy's checkpoint goes (the whole `meta`): its writer's next step fails, its runner notices
   * the moved checkpoint and starts over, and its setup wipes the keys left without a checkpoint.
   */
  async resetBeside(): Promise<void> {
    await this.connections.redis.unlink(this.keys.meta);
    this.graph.drop();
  }

  async drop(): Promise<void> {
    await this.reset();
  }

  async close(): Promise<void> {
    await this.pool?.stop();
    await this.applierConnections?.close();
    await this.connections.close();
  }
}
