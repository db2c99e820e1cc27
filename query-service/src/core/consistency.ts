import { Problem, timelinePartition, type RedisClient } from '@tweeter/shared';
import { Histogram, type Registry } from 'prom-client';
import type { LiveCopies } from './activeCopies.ts';
import type { ReadModelServer } from './readModelSource.ts';
import { checkpointOf } from '../readModel/checkpoint.repository.ts';
import { copyOf } from '../readModel/database.ts';

/** What a request reads, and so which checkpoints a read-your-writes wait watches. */
export type ReadSource = 'read-model' | 'timelines';

/** Where a projection copy stands: its checkpoint, and for timelines whether it is live. */
interface Standing {
  checkpoint: string | null;
  /** A timelines copy that is not live is not read (answers come from PostgreSQL). */
  read: boolean;
  at: number;
}

/**
 * Read-your-writes: waits until every projection a request reads has applied the log up to a
 * position. Checkpoints are polled (the projector sends no notification) with a short backoff,
 * and one poll per projection copy is shared by every waiting request, so a burst of waiters costs
 * one query and one Redis round trip per interval. A position already known to be passed costs
 * nothing: checkpoints only move forward (a reset moves them back, hence the short trust window).
 *
 * The read model's checkpoint is read from the server the page is then read from (a read replica
 * or the primary): the checkpoint row is written in the same transaction as the rows it covers and
 * replicated with them, so a replica whose checkpoint has passed the position has replayed those
 * rows too, and one that has not is never read for that request.
 */
export class ConsistencyGate {
  private readonly known = new Map<string, Standing>();
  private readonly polls = new Map<string, Promise<Standing>>();
  private readonly waits: Histogram;

  constructor(
    private readonly redis: RedisClient,
    private readonly waitMs: number,
    registry: Registry,
    private readonly now: () => number = Date.now,
    private readonly trustMs = 500,
  ) {
    this.waits = new Histogram({
      name: 'query_consistency_wait_seconds',
      help:
        'Time requests with X-Min-Position waited for the projections, by outcome (replica-behind: ' +
        'the read replica had not replayed the position in time, the primary was asked next)',
      labelNames: ['outcome'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
      registers: [registry],
    });
  }

  /** When a request that starts now must have its answer (a retry on the primary keeps it). */
  deadline(): number {
    return this.now() + this.waitMs;
  }

  /**
   * Returns once every source has passed `position` on `server` (the read model's checkpoint as
   * that server has it); at `deadline` a consistency-timeout. Always looks at least once.
   */
  async waitFor(
    position: string,
    sources: readonly ReadSource[],
    copies: LiveCopies,
    server: ReadModelServer,
    deadline: number = this.deadline(),
    /** The home timeline read, if any: on a copy with fan-out partitions, its partition counts. */
    home?: string,
  ) {
    const started = this.now();
    let pause = 2;
    for (;;) {
      const standings = await Promise.all(
        sources.map((source) => this.standing(source, copies, server, position, home)),
      );
      if (standings.every((s) => passed(s, position))) {
        this.waits.observe({ outcome: 'passed' }, (this.now() - started) / 1000);
        return;
      }
      const left = deadline - this.now();
      if (left <= 0) {
        const outcome = server.name === 'replica' ? 'replica-behind' : 'timeout';
        this.waits.observe({ outcome }, (this.now() - started) / 1000);
        throw new Problem(
          'consistency-timeout',
          `The projections have not reached position ${position} within ${this.waitMs} ms; retry shortly`,
          { retryAfter: 1 },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(pause, left)));
      pause = Math.min(pause * 2, 25);
    }
  }

  private async standing(
    source: ReadSource,
    copies: LiveCopies,
    server: ReadModelServer,
    position: string,
    home: string | undefined,
  ) {
    const partition = source === 'timelines' ? this.partitionOf(copies, home) : undefined;
    // A home read whose partition is not known yet (the first wait on a copy) polls apart from
    // the reads without a home: the planner's checkpoint alone must not pass it.
    const homeUnplaced = source === 'timelines' && home !== undefined && partition === undefined;
    const key =
      source === 'read-model'
        ? `rm:${server.name}:${copies.readModel}`
        : `tl:${copies.timelines.namespace}:${partition ?? (homeUnplaced ? '?' : '')}`;
    const known = this.known.get(key);
    if (known && passed(known, position) && this.now() - known.at < this.trustMs) return known;
    let poll = this.polls.get(key);
    if (!poll) {
      poll = this.poll(source, copies, server, partition, homeUnplaced).finally(() =>
        this.polls.delete(key),
      );
      this.polls.set(key, poll);
    }
    const standing = await poll;
    this.known.set(key, standing);
    return standing;
  }

  /** Each timelines copy's partition count (fixed for a copy), once read. */
  private readonly partitionCounts = new Map<string, number>();

  /** The fan-out partition holding `home` in the copy, when its count is known and not 0. */
  private partitionOf(copies: LiveCopies, home: string | undefined): number | undefined {
    const count = this.partitionCounts.get(copies.timelines.namespace);
    return home && count ? timelinePartition(home, count) : undefined;
  }

  private async poll(
    source: ReadSource,
    copies: LiveCopies,
    server: ReadModelServer,
    partition: number | undefined,
    homeUnplaced = false,
  ): Promise<Standing> {
    switch (source) {
      case 'read-model':
        return {
          checkpoint: await checkpointOf(copyOf(server.db, copies.readModel)),
          read: true,
          at: this.now(),
        };
      case 'timelines': {
        // Redis down: the timeline is answered from the tables, so there is nothing to wait for.
        if (this.redis.status !== 'ready') return { checkpoint: null, read: false, at: this.now() };
        const keys = copies.timelines;
        const [[checkpoint, live, partitions], [applied]] = await Promise.all([
          this.redis.hmget(keys.meta, 'checkpoint', 'live', 'partitions'),
          partition === undefined
            ? [null]
            : this.redis.hmget(keys.partition(partition), 'checkpoint'),
        ]);
        const count = Number(partitions ?? 0);
        this.partitionCounts.set(keys.namespace, count);
        // Partitioned after all: the next look polls the home's partition.
        if (homeUnplaced && count > 0) return { checkpoint: null, read: live === '1', at: 0 };
        // With fan-out partitions, the copy has passed a position for this home once the planner
        // has (author lists, graph) and the home's partition has too (its homes).
        const passedBy =
          partition === undefined || checkpoint == null || applied == null
            ? partition === undefined
              ? (checkpoint ?? null)
              : null
            : applied < checkpoint
              ? applied
              : checkpoint;
        return { checkpoint: passedBy, read: live === '1', at: this.now() };
      }
      default: {
        const never: never = source;
        throw new Error(`unknown source ${String(never)}`);
      }
    }
  }
}

// Positions of one store compare as strings (fixed-width hex).
const passed = (s: Standing, position: string) =>
  !s.read || (s.checkpoint !== null && s.checkpoint >= position);
