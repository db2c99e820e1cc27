import type { Redis } from 'ioredis';
import type { DecodedEvent, TimelineKeys } from '@tweeter/shared';
import { MemoryFollowGraph } from './followGraph.ts';
import { neededBy } from './plan.ts';

/**
 * The projection's follow graph in process memory, loaded from its own Redis keys on demand: a
 * batch's plan reads the graph (who follows an author, whether a user exists) without a round trip
 * per event. Planning updates it in step; it is dropped whenever it may describe something that
 * was not committed (a failed batch, a restart from the stored checkpoint) and when it outgrows
 * `limit` members.
 */
export class FollowGraphCache {
  private graph: MemoryFollowGraph | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly keys: TimelineKeys,
    private readonly limit = 3_000_000,
  ) {}

  /** Forgets everything: the next batch reloads what it needs. */
  drop(): void {
    this.graph = undefined;
  }

  /** Makes sure the cache holds what planning `events` reads (see `neededBy`). */
  async loadFor(events: DecodedEvent[]): Promise<MemoryFollowGraph> {
    let graph = this.graph;
    if (!graph || graph.size() > this.limit) {
      graph = new MemoryFollowGraph();
      for (const id of await this.redis.smembers(this.keys.celebs)) graph.addCelebrity(id);
      this.graph = graph;
    }
    const needs = neededBy(events);
    const k = this.keys;
    const unknown = [...needs.users].filter((u) => !graph.users.has(u));
    if (unknown.length > 0) {
      const p = this.redis.pipeline();
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
      const p = this.redis.pipeline();
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
}
