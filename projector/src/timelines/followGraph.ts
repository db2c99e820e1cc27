/**
 * The timelines projection's own follow graph (its `followers:{G}U`, `following:{G}U` sets, which
 * users exist, who is a celebrity), as the planner reads and updates it. Kept in memory by
 * `followGraphCache.ts`, loaded from Redis on demand.
 */

/** The projection's own follow graph, as much of it as the batch needs (see `neededBy`). */
export interface FollowGraph {
  /** Whether the user exists (created and not deleted). */
  exists(userId: string): boolean;
  setExists(userId: string, exists: boolean): void;
  /** The follower set; must be loaded for authors, followees and deleted users of the batch. */
  followers(userId: string): Set<string>;
  /** The follower set if loaded (kept in step when it is). */
  followersIfLoaded(userId: string): Set<string> | undefined;
  /** The followee set if loaded; must be loaded for deleted users of the batch. */
  following(userId: string): Set<string> | undefined;
  isCelebrity(userId: string): boolean;
  addCelebrity(userId: string): void;
  /** Forgets a deleted user's sets. */
  forget(userId: string): void;
}

/** A follow graph held in memory: the adapter's cache, and the unit tests' stand-in for Redis. */
export class MemoryFollowGraph implements FollowGraph {
  readonly users = new Map<string, boolean>();
  readonly followerSets = new Map<string, Set<string>>();
  readonly followingSets = new Map<string, Set<string>>();
  readonly celebrities = new Set<string>();

  /**
   * `whole`: the graph is all there is (held since the copy was empty): a user it does not know
   * does not exist. Otherwise asking about a user not loaded is an error.
   */
  constructor(readonly whole = false) {}

  exists(userId: string): boolean {
    const known = this.users.get(userId);
    if (known !== undefined) return known;
    if (this.whole) return false;
    throw new Error(`graph: existence of ${userId} not loaded`);
  }

  setExists(userId: string, exists: boolean): void {
    this.users.set(userId, exists);
    if (exists) {
      if (!this.followerSets.has(userId)) this.followerSets.set(userId, new Set());
      if (!this.followingSets.has(userId)) this.followingSets.set(userId, new Set());
    }
  }

  followers(userId: string): Set<string> {
    const set = this.followerSets.get(userId);
    if (!set) throw new Error(`graph: followers of ${userId} not loaded`);
    return set;
  }

  followersIfLoaded(userId: string): Set<string> | undefined {
    return this.followerSets.get(userId);
  }

  following(userId: string): Set<string> | undefined {
    return this.followingSets.get(userId);
  }

  isCelebrity(userId: string): boolean {
    return this.celebrities.has(userId);
  }

  addCelebrity(userId: string): void {
    this.celebrities.add(userId);
  }

  forget(userId: string): void {
    this.followerSets.delete(userId);
    this.followingSets.delete(userId);
    this.celebrities.delete(userId);
  }

  /** Members held, to bound the cache. */
  size(): number {
    let n = this.users.size;
    for (const s of this.followerSets.values()) n += s.size;
    for (const s of this.followingSets.values()) n += s.size;
    return n;
  }
}
