import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { type Logger, type Position, type RedisServers, type TimelineKeys } from '@tweeter/shared';
import { lockName } from '../../runtime/advisoryLock.ts';
import type { ScriptedRedis } from '../stepWriter.ts';
import { PartitionApplier, type PartitionStatus } from './partitionApplier.ts';

/** A process that has not renewed its membership for this long is taken for gone. */
const membershipMs = 3000;

export interface PartitionPoolOptions {
  /** The projection's connection: the pool's and its appliers' commands but the blocking reads. */
  connection: ScriptedRedis;
  redis: RedisServers;
  redisPrefix: string;
  keys: TimelineKeys;
  copy: string;
  cap: number;
  databaseUrl: string;
  logger: Logger;
  tickMs?: number;
}

/**
 * This process's share of a copy's fan-out partitions. Every projector process runs one per copy
 * it follows; each renews its membership in `members` (a hash of process → expiry) every tick
 * and holds at most ceil(partitions / live processes) partitions: one above its share lets
 * partitions go, one below tries free ones (a partition is held through its advisory lock, so
 * two processes never apply the same one). A process started later so takes a share within a
 * few ticks, and when one dies its locks fall free with its database session and its membership
 * expires: the survivors take its partitions within a few seconds.
 */
export class PartitionPool {
  readonly owner = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private readonly redis: ScriptedRedis;
  private readonly appliers = new Map<number, PartitionApplier>();
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private stopped = false;
  private offset = 0;
  private count = 0;
  private complete: Position | null | undefined;

  constructor(private readonly options: PartitionPoolOptions) {
    this.redis = options.connection;
  }

  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => void this.tick(), this.options.tickMs ?? 1000);
    void this.tick();
  }

  /**
   * The position every partition's homes have reached (the least of their checkpoints; null if
   * one has none yet), as of the last tick; undefined for a copy without partitions.
   */
  completeThrough(): Position | null | undefined {
    return this.count === 0 ? undefined : this.complete;
  }

  status(): PartitionStatus[] {
    return [...this.appliers.values()]
      .map((a) => a.status())
      .sort((a, b) => a.partition - b.partition);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    while (this.ticking) await new Promise((r) => setTimeout(r, 20));
    await Promise.all([...this.appliers.values()].map((a) => a.release()));
    this.appliers.clear();
    await this.redis.hdel(this.options.keys.members, this.owner).catch(() => undefined);
  }

  private async tick(): Promise<void> {
    if (this.ticking || this.stopped) return;
    this.ticking = true;
    try {
      const { keys } = this.options;
      const now = Date.now();
      const [partitions] = await this.redis.hmget(keys.meta, 'partitions');
      this.count = Number(partitions ?? 0);
      const checkpoints = await Promise.all(
        Array.from({ length: this.count }, (_, p) =>
          this.redis.hget(keys.partition(p), 'checkpoint'),
        ),
      );
      this.complete = checkpoints.reduce<Position | null>(
        (least, c) =>
          c === null ? null : least === null ? null : c < least ? (c as Position) : least,
        (checkpoints[0] ?? null) as Position | null,
      );
      await this.redis.hset(keys.members, this.owner, String(now + membershipMs));
      const members = await this.redis.hgetall(keys.members);
      const gone = Object.keys(members).filter((m) => Number(members[m]) < now);
      if (gone.length > 0) await this.redis.hdel(keys.members, ...gone);
      const alive = Math.max(1, Object.keys(members).length - gone.length);
      const share = this.count === 0 ? 0 : Math.ceil(this.count / alive);
      // Appliers that waited a whole tick for a lock another process holds: try others instead.
      for (const [p, applier] of this.appliers)
        if (!applier.isHeld || p >= this.count) {
          this.appliers.delete(p);
          await applier.release();
        }
      const held = [...this.appliers.keys()];
      for (const p of held.slice(share)) {
        this.options.logger.info(
          { partition: p, share },
          'partition: above this process’s share; letting it go',
        );
        const applier = this.appliers.get(p)!;
        this.appliers.delete(p);
        await applier.release();
      }
      const wanted = share - this.appliers.size;
      for (let i = 0, started = 0; i < this.count && started < wanted; i++) {
        const p = (this.offset + i) % this.count;
        if (this.appliers.has(p)) continue;
        const applier = new PartitionApplier({
          partition: p,
          writer: this.redis,
          redis: this.options.redis,
          redisPrefix: this.options.redisPrefix,
          keys,
          cap: this.options.cap,
          databaseUrl: this.options.databaseUrl,
          lockName: `${lockName('timelines', this.options.copy)}:p${p}`,
          owner: this.owner,
          logger: this.options.logger,
        });
        this.appliers.set(p, applier);
        applier.start();
        started++;
      }
      // Next tick, try the partitions after these first (another process may hold these).
      if (wanted > 0 && this.count > 0) this.offset = (this.offset + wanted) % this.count;
    } catch (error) {
      this.options.logger.debug({ err: error }, 'partition pool tick failed');
    } finally {
      this.ticking = false;
    }
  }
}
