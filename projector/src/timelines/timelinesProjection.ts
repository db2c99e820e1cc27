import { Redis, type ChainableCommander } from 'ioredis';
import {
  encodeTimelineMember,
  encodeTweetBody,
  homeTimelineCap,
  timelineKeys,
  type DecodedEvent,
  type Logger,
  type Position,
  type TimelineKeys,
} from '@tweeter/shared';
import { CheckpointMovedError, type Projection } from '../runtime/projection.ts';
import { MemoryFollowGraph, neededBy, TimelinePlanner, type TimelineOp } from './plan.ts';
import { timelineScripts, type TimelineScriptName } from './scripts.ts';

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

/** An entry as the add script reads it: 16-byte member, then the score in 13 ASCII digits. */
const entryRecordBytes = 29;

/** Homes per add-script call: large enough to amortise the call, small enough for Lua's stack. */
const addBundleSize = 256;

/** Sorted sets up to this many entries stay listpacks: a full home timeline must (memory target). */
export const listpackEntries = 1024;

/**
 * `timelines` → Redis. Each batch is planned against the projection's own follow graph (cached in
 * memory, loaded from its Redis sets on demand) and committed as one WATCH/MULTI/EXEC that also
 * writes the checkpoint: all or nothing, and a flush or reset in between aborts it.
 */
export class TimelinesProjection implements Projection {
  readonly name = 'timelines' as const;
  readonly copy: string;
  readonly keys: TimelineKeys;
  private readonly reader: Redis;
  private readonly writer: Redis;
  private shas: Partial<Record<TimelineScriptName, string>> = {};
  private graph: MemoryFollowGraph | undefined;
  private readonly cap: number;
  private readonly maxCommands: number;
  /** Fan-out entries committed (ZADDs into home timelines by posts), for the benchmark. */
  readonly stats = { entries: 0 };

  constructor(private readonly options: TimelinesOptions) {
    this.copy = options.version;
    this.keys = timelineKeys(options.version);
    this.cap = options.cap ?? homeTimelineCap;
    this.maxCommands = options.maxCommandsPerTransaction ?? 20_000;
    const common = { keyPrefix: options.redisPrefix, maxRetriesPerRequest: 2, lazyConnect: true };
    // Reads of the graph are many small commands: auto-pipelined. The writer holds WATCH state,
    // so it is a connection of its own.
    this.reader = new Redis(options.redisUrl, { ...common, enableAutoPipelining: true });
    this.writer = new Redis(options.redisUrl, common);
    for (const c of [this.reader, this.writer])
      c.on('error', (error) => options.logger.debug({ err: error }, 'redis connection error'));
  }

  async setup(): Promise<void> {
    // The runner sets up again whenever it (re)starts from the stored checkpoint, e.g. after a
    // flush or reset: the cached follow graph describes the old state and must not plan the replay.
    this.graph = undefined;
    // A capped home timeline (800 entries) must stay a listpack to meet ~28 bytes per entry; the
    // Redis default keeps only 128. Only ever raise it (another stack may share this Redis).
    try {
      const [, current] = (await this.writer.config('GET', 'zset-max-listpack-entries')) as [
        string,
        string,
      ];
      if (Number(current) < listpackEntries)
        await this.writer.config('SET', 'zset-max-listpack-entries', String(listpackEntries));
    } catch (error) {
      this.options.logger.warn(
        { err: error },
        `could not raise zset-max-listpack-entries to ${listpackEntries}; set it in redis.conf`,
      );
    }
    await this.loadScripts();
  }

  private async loadScripts(): Promise<void> {
    const shas: Partial<Record<TimelineScriptName, string>> = {};
    for (const [name, source] of Object.entries(timelineScripts))
      shas[name as TimelineScriptName] = (await this.writer.script('LOAD', source)) as string;
    this.shas = shas;
  }

  private sha(name: TimelineScriptName): string {
    const sha = this.shas[name];
    if (!sha) throw new Error(`script ${name} not loaded`);
    return sha;
  }

  async checkpoint(): Promise<Position | null> {
    return ((await this.reader.hget(this.keys.meta, 'checkpoint')) ?? null) as Position | null;
  }

  async apply(events: DecodedEvent[], upTo: Position, from: Position | null): Promise<void> {
    // A large batch is committed in steps. Each step's EXEC is sent before the next step is
    // planned, so Redis executes one step while this process plans the next; a step starts only
    // after the previous one was acknowledged (its checkpoint is the next step's `from`).
    let executing: Promise<void> | undefined;
    try {
      const graph = await this.loadGraph(events);
      let planner = new TimelinePlanner(graph, this.options);
      let stepFrom = from;
      for (let i = 0; i < events.length; i++) {
        const event = events[i]!;
        planner.plan(event);
        if (planner.weight >= this.maxCommands && i < events.length - 1) {
          await executing;
          executing = (await this.send(planner.ops, event.position, stepFrom)).done;
          executing.catch(() => undefined);
          stepFrom = event.position;
          planner = new TimelinePlanner(graph, this.options);
        }
      }
      await executing;
      await (
        await this.send(planner.ops, upTo, stepFrom)
      ).done;
    } catch (error) {
      // The cache was updated while planning what may not have been committed.
      this.graph = undefined;
      await executing?.catch(() => undefined);
      throw error;
    }
  }

  /**
   * Marks the copy live only if it still holds the checkpoint the runner caught up at: after a
   * flush or reset, an unconditional HSET would recreate `meta` with `live` alone and readers would
   * trust an empty copy.
   */
  async caughtUp(position: Position | null): Promise<void> {
    await this.writer.eval(
      `local stored = redis.call('HGET', KEYS[1], 'checkpoint')
       if (stored == false and ARGV[1] == '') or stored == ARGV[1] then
         redis.call('HSET', KEYS[1], 'live', '1')
       end`,
      1,
      this.keys.meta,
      position ?? '',
    );
  }

  /** Makes sure the cache holds what planning `events` reads (see `neededBy`). */
  private async loadGraph(events: DecodedEvent[]): Promise<MemoryFollowGraph> {
    const limit = this.options.cacheLimit ?? 3_000_000;
    let graph = this.graph;
    if (!graph || graph.size() > limit) {
      graph = new MemoryFollowGraph();
      for (const id of await this.reader.smembers(this.keys.celebs)) graph.addCelebrity(id);
      this.graph = graph;
    }
    const needs = neededBy(events);
    const k = this.keys;
    const unknown = [...needs.users].filter((u) => !graph.users.has(u));
    if (unknown.length > 0) {
      const p = this.reader.pipeline();
      for (const u of unknown) p.exists(k.user(u));
      const results = (await p.exec()) ?? [];
      unknown.forEach((u, i) => {
        const [error, n] = results[i] ?? [new Error('no reply')];
        if (error) throw error;
        graph.users.set(u, n === 1);
      });
    }
    const sets = [
      ...[...needs.followers]
        .filter((u) => graph.users.get(u) === true && !graph.followerSets.has(u))
        .map((u) => ({ u, key: k.followers(u), into: graph.followerSets })),
      ...[...needs.following]
        .filter((u) => graph.users.get(u) === true && !graph.followingSets.has(u))
        .map((u) => ({ u, key: k.following(u), into: graph.followingSets })),
    ];
    if (sets.length > 0) {
      const p = this.reader.pipeline();
      for (const s of sets) p.smembers(s.key);
      const results = (await p.exec()) ?? [];
      sets.forEach((s, i) => {
        const [error, members] = results[i] ?? [new Error('no reply')];
        if (error) throw error;
        s.into.set(s.u, new Set(members as string[]));
      });
    }
    return graph;
  }

  /**
   * Checks the stored checkpoint is `from` (WATCHing it) and sends the step's MULTI/EXEC with the
   * new checkpoint. Resolves once the EXEC is sent, to a promise of its outcome (wrapped: a
   * promise resolved with a promise would wait for it).
   */
  private async send(
    ops: TimelineOp[],
    position: Position,
    from: Position | null,
  ): Promise<{ done: Promise<void> }> {
    const w = this.writer;
    const meta = this.keys.meta;
    const shas = Object.values(this.shas);
    const prepared = await w
      .pipeline()
      .watch(meta)
      .hget(meta, 'checkpoint')
      .script('EXISTS', ...shas)
      .exec();
    const failure = prepared?.find(([error]) => error);
    if (!prepared || failure) throw failure?.[0] ?? new Error('no reply from Redis');
    const stored = (prepared[1]![1] ?? null) as Position | null;
    if (stored !== from) {
      await w.unwatch();
      throw new CheckpointMovedError(this.name, from, stored);
    }
    // A command failing inside EXEC cannot be rolled back, so make sure the scripts are there.
    if ((prepared[2]![1] as number[]).some((p) => p !== 1)) await this.loadScripts();
    const m = w.multi();
    this.records = new Map();
    let bundle: Extract<TimelineOp, { kind: 'addEntries' }>[] = [];
    for (const op of ops) {
      if (op.kind === 'addEntries') {
        bundle.push(op);
        if (bundle.length >= addBundleSize) bundle = this.emitAdds(m, bundle);
        continue;
      }
      if (bundle.length > 0) bundle = this.emitAdds(m, bundle);
      this.emit(m, op);
    }
    if (bundle.length > 0) this.emitAdds(m, bundle);
    this.records = new Map();
    m.hset(meta, 'checkpoint', position);
    const exec = m.exec();
    const done = exec.then((results) => {
      if (results === null) throw new CheckpointMovedError(this.name, from, null);
      for (const op of ops) if (op.kind === 'addEntries') this.stats.entries += op.entries.length;
      const failed = results.find(([error]) => error);
      if (failed)
        throw new Error(
          `timelines: a command of the batch up to ${position} failed (${String(failed[0])}); ` +
            `the copy ${this.copy} may be inconsistent: reset and replay it`,
        );
    });
    return { done };
  }

  /** Records of the tweets of the batch being committed, encoded once per tweet. */
  private records = new Map<string, Buffer>();

  private entryRecord(entry: { score: number; tweetId: string }): Buffer {
    let record = this.records.get(entry.tweetId);
    if (!record) {
      if (!(entry.score >= 0 && entry.score < 1e13))
        throw new RangeError(`score ${entry.score} out of the 13-digit range`);
      record = Buffer.allocUnsafe(entryRecordBytes);
      encodeTimelineMember(entry.tweetId).copy(record, 0);
      record.write(String(entry.score).padStart(13, '0'), 16, 'latin1');
      this.records.set(entry.tweetId, record);
    }
    return record;
  }

  /** Consecutive add groups (different homes) as one script call; returns a fresh bundle. */
  private emitAdds(
    m: ChainableCommander,
    bundle: Extract<TimelineOp, { kind: 'addEntries' }>[],
  ): Extract<TimelineOp, { kind: 'addEntries' }>[] {
    const keys: string[] = [];
    const blobs: Buffer[] = [];
    for (const op of bundle) {
      keys.push(this.keys.home(op.homeOf), this.keys.user(op.homeOf));
      if (op.entries.length === 1) {
        blobs.push(this.entryRecord(op.entries[0]!));
      } else {
        const blob = Buffer.allocUnsafe(entryRecordBytes * op.entries.length);
        op.entries.forEach((e, i) => this.entryRecord(e).copy(blob, i * entryRecordBytes));
        blobs.push(blob);
      }
    }
    m.evalsha(this.sha('addEntries'), keys.length, ...keys, this.cap, ...blobs);
    return [];
  }

  private emit(m: ChainableCommander, op: TimelineOp): void {
    const k = this.keys;
    switch (op.kind) {
      case 'putUser':
        m.hset(k.user(op.userId), 'u', op.username, 'd', op.displayName);
        return;
      case 'updateUser':
        m.hset(k.user(op.userId), 'd', op.displayName);
        return;
      case 'addEntries':
        throw new Error('addEntries ops are sent in bundles');
      case 'putTweet':
        m.zadd(k.author(op.body.authorId), op.score, encodeTimelineMember(op.body.id));
        m.set(k.tweet(op.body.id), encodeTweetBody(op.body));
        return;
      case 'removeTweet': {
        const member = encodeTimelineMember(op.tweetId);
        for (const home of op.homesOf) m.zrem(k.home(home), member);
        m.zrem(k.author(op.authorId), member);
        m.del(k.tweet(op.tweetId));
        return;
      }
      case 'follow':
        m.evalsha(
          this.sha('follow'),
          5,
          k.home(op.followerId),
          k.user(op.followerId),
          k.author(op.followeeId),
          k.followers(op.followeeId),
          k.following(op.followerId),
          this.cap,
          op.followerId,
          op.followeeId,
          op.merge ? '1' : '0',
        );
        return;
      case 'unfollow':
        m.evalsha(
          this.sha('removeAuthor'),
          4,
          k.home(op.followerId),
          k.author(op.followeeId),
          k.followers(op.followeeId),
          k.following(op.followerId),
          op.followerId,
          op.followeeId,
        );
        return;
      case 'becomeCelebrity':
        m.sadd(k.celebs, op.userId);
        return;
      case 'deleteUser': {
        const x = op.userId;
        for (const f of op.followers) {
          m.evalsha(this.sha('removeAuthor'), 2, k.home(f), k.author(x));
          m.srem(k.following(f), x);
        }
        for (const f of op.following) m.srem(k.followers(f), x);
        m.evalsha(
          this.sha('deleteBodies'),
          1,
          k.author(x),
          `${this.options.redisPrefix}${k.tweetPrefix}`,
        );
        m.del(k.home(x), k.user(x), k.author(x), k.followers(x), k.following(x));
        m.srem(k.celebs, x);
        return;
      }
      default: {
        const never: never = op;
        throw new Error(`unknown op ${JSON.stringify(never)}`);
      }
    }
  }

  /** Every key of this copy, with REDIS_PREFIX (for reset, drop and comparisons). */
  async *scanKeys(): AsyncGenerator<string[]> {
    const raw = new Redis(this.options.redisUrl, { maxRetriesPerRequest: 2 });
    try {
      const stream = raw.scanStream({
        match: `${this.options.redisPrefix}${this.keys.namespace}*`,
        count: 1000,
      });
      for await (const batch of stream) yield batch as string[];
    } finally {
      raw.disconnect();
    }
  }

  /**
   * Deletes every key of this copy (data and checkpoint). Call it holding the copy's lock (the
   * admin CLI does): the checkpoint goes first, so a writer in between fails its WATCH.
   */
  async reset(): Promise<void> {
    const raw = new Redis(this.options.redisUrl, { maxRetriesPerRequest: 2 });
    try {
      await raw.unlink(`${this.options.redisPrefix}${this.keys.meta}`);
      for await (const keys of this.scanKeys()) if (keys.length > 0) await raw.unlink(...keys);
    } finally {
      raw.disconnect();
    }
    this.graph = undefined;
  }

  async drop(): Promise<void> {
    await this.reset();
  }

  async close(): Promise<void> {
    await Promise.all([this.reader.quit(), this.writer.quit()]).catch(() => undefined);
  }
}
