import {
  homeTimelineCap,
  timelineKeys,
  type DecodedEvent,
  type Logger,
  type Position,
  type TimelineKeys,
} from '@tweeter/shared';
import type { CopiedProjection } from '../runtime/projection.ts';
import { TimelineConnections } from './connections.ts';
import { CopyKeys } from './copyKeys.ts';
import { FollowGraphCache } from './followGraphCache.ts';
import { raiseListpackLimit } from './listpack.ts';
import { ScriptLoader } from './scriptLoader.ts';
import { StepWriter } from './stepTransaction.ts';
import { applyInSteps } from './steps.ts';

export interface TimelinesOptions {
  redisUrl: string;
  /** REDIS_PREFIX: every key lives under it. */
  redisPrefix: string;
  /** The copy: the key version (keys `tl:<version>:…`). */
  version: string;
  fanoutMaxFollowers: number;
  logger: Logger;
  /** Home timeline cap (800). */
  cap?: number;
  /** Commands per MULTI: a batch above it is committed in several steps, each with its checkpoint. */
  maxCommandsPerTransaction?: number;
  /** Members of the cached follow graph above which the cache is dropped and reloaded on demand. */
  cacheLimit?: number;
}

/**
 * `timelines` → Redis: the projection port over its parts. Each batch is planned (plan.ts, the
 * rules in rules/) against the projection's own follow graph (followGraphCache.ts) and committed
 * in steps (steps.ts), each one WATCH/MULTI/EXEC that also writes the checkpoint
 * (stepTransaction.ts): all or nothing, and a flush or reset in between aborts it.
 */
export class TimelinesProjection implements CopiedProjection {
  readonly name = 'timelines' as const;
  readonly copy: string;
  readonly keys: TimelineKeys;
  private readonly connections: TimelineConnections;
  private readonly scripts: ScriptLoader;
  private readonly graph: FollowGraphCache;
  private readonly writer: StepWriter;
  private readonly copyKeys: CopyKeys;

  constructor(private readonly options: TimelinesOptions) {
    this.copy = options.version;
    this.keys = timelineKeys(options.version);
    this.connections = new TimelineConnections(
      options.redisUrl,
      options.redisPrefix,
      options.logger,
    );
    this.scripts = new ScriptLoader(this.connections.writer);
    this.graph = new FollowGraphCache(this.connections.reader, this.keys, options.cacheLimit);
    this.writer = new StepWriter({
      redis: this.connections.writer,
      keys: this.keys,
      scripts: this.scripts,
      cap: options.cap ?? homeTimelineCap,
      redisPrefix: options.redisPrefix,
      copy: this.copy,
    });
    this.copyKeys = new CopyKeys(options.redisUrl, options.redisPrefix, this.keys);
  }

  /** Fan-out entries committed (ZADDs into home timelines by posts), for the benchmark. */
  get stats(): { readonly entries: number } {
    return this.writer.stats;
  }

  async setup(): Promise<void> {
    // The runner sets up again whenever it (re)starts from the stored checkpoint, e.g. after a
    // flush or reset: the cached follow graph describes the old state and must not plan the replay.
    this.graph.drop();
    await raiseListpackLimit(this.connections.writer, this.options.logger);
    await this.scripts.load();
  }

  async checkpoint(): Promise<Position | null> {
    return ((await this.connections.reader.hget(this.keys.meta, 'checkpoint')) ??
      null) as Position | null;
  }

  async apply(events: DecodedEvent[], upTo: Position, from: Position | null): Promise<void> {
    try {
      await applyInSteps(events, upTo, from, {
        graph: await this.graph.loadFor(events),
        plan: this.options,
        maxCommands: this.options.maxCommandsPerTransaction ?? 20_000,
        writer: this.writer,
      });
    } catch (error) {
      // The cache was updated while planning what may not have been committed.
      this.graph.drop();
      throw error;
    }
  }

  /**
   * Marks the copy live only if it still holds the checkpoint the runner caught up at: after a
   * flush or reset, an unconditional HSET would recreate `meta` with `live` alone and readers would
   * trust an empty copy.
   */
  async caughtUp(position: Position | null): Promise<void> {
    await this.connections.writer.eval(
      `local stored = redis.call('HGET', KEYS[1], 'checkpoint')
       if (stored == false and ARGV[1] == '') or stored == ARGV[1] then
         redis.call('HSET', KEYS[1], 'live', '1')
       end`,
      1,
      this.keys.meta,
      position ?? '',
    );
  }

  /** Every key of this copy, with REDIS_PREFIX (for reset, drop and comparisons). */
  scanKeys(): AsyncGenerator<string[]> {
    return this.copyKeys.scan();
  }

  /**
   * Deletes every key of this copy (data and checkpoint). Call it holding the copy's lock (the
   * admin CLI does): the checkpoint goes first, so a writer in between fails its WATCH.
   */
  async reset(): Promise<void> {
    await this.copyKeys.deleteAll();
    this.graph.drop();
  }

  async drop(): Promise<void> {
    await this.reset();
  }

  async close(): Promise<void> {
    await this.connections.close();
  }
}
