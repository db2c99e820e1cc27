import { assertNever, timelineScore, type DecodedEvent, type TweetBody } from '@tweeter/shared';

/**
 * The timelines projection's handling of events, free of I/O: events + the projection's own follow
 * graph → an ordered list of Redis operations. The graph is a cache of the projection's Redis sets
 * (loaded before planning, kept in step while planning); the timeline merges and trims themselves
 * run in Lua, where they see the effects of the operations before them.
 */

export type TimelineOp =
  | { kind: 'putUser'; userId: string; username: string; displayName: string }
  | { kind: 'updateUser'; userId: string; displayName: string }
  /** Entries for one home timeline, added then trimmed (consecutive adds to a home are grouped). */
  | { kind: 'addEntries'; homeOf: string; entries: { score: number; tweetId: string }[] }
  /** The tweet joins its author's list, and its body is stored. */
  | { kind: 'putTweet'; body: TweetBody; score: number }
  /** The tweet leaves its author's list, the given homes, and its body is deleted. */
  | { kind: 'removeTweet'; authorId: string; tweetId: string; homesOf: string[] }
  | { kind: 'follow'; followerId: string; followeeId: string; merge: boolean }
  | { kind: 'unfollow'; followerId: string; followeeId: string }
  | { kind: 'becomeCelebrity'; userId: string }
  | { kind: 'deleteUser'; userId: string; followers: string[]; following: string[] };

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

export interface Needs {
  /** Users whose existence the plan asks about. */
  users: Set<string>;
  followers: Set<string>;
  following: Set<string>;
}

const lower = (id: string) => id.toLowerCase();

/** What of the graph planning `events` reads. */
export function neededBy(events: readonly DecodedEvent[]): Needs {
  const needs: Needs = { users: new Set(), followers: new Set(), following: new Set() };
  for (const event of events) {
    switch (event.type) {
      case 'UserCreated':
      case 'UserProfileUpdated':
        needs.users.add(lower(event.data.userId));
        break;
      case 'UserDeleted': {
        const id = lower(event.data.userId);
        needs.users.add(id);
        needs.followers.add(id);
        needs.following.add(id);
        break;
      }
      case 'Followed':
      case 'Unfollowed':
        needs.users.add(lower(event.data.followerId)).add(lower(event.data.followeeId));
        needs.followers.add(lower(event.data.followeeId));
        break;
      case 'TweetPosted':
      case 'TweetDeleted':
        needs.users.add(lower(event.data.authorId));
        needs.followers.add(lower(event.data.authorId));
        break;
      default:
        assertNever(event);
    }
  }
  return needs;
}

export interface PlanOptions {
  /** Authors with more followers than this are not fanned out (FANOUT_MAX_FOLLOWERS). */
  fanoutMaxFollowers: number;
}

/**
 * Plans `events` in log order against `graph`, updating the graph as it goes. Events about users
 * that do not exist change nothing (odd orders, repeats), like in the read model.
 */
export class TimelinePlanner {
  readonly ops: TimelineOp[] = [];
  /** Open add groups: a home's adds are grouped until another operation touches that home. */
  private readonly openAdds = new Map<string, Extract<TimelineOp, { kind: 'addEntries' }>>();
  /** Tweets posted in this plan: the author list holds them once the plan runs. */
  private readonly tweetAuthors = new Map<string, string>();
  /** Commands the plan will send (entries count one each): the caller splits batches by it. */
  weight = 0;

  constructor(
    private readonly graph: FollowGraph,
    private readonly options: PlanOptions,
  ) {}

  private touch(home: string): void {
    this.openAdds.delete(home);
  }

  private push(op: TimelineOp, weight = 1): void {
    this.ops.push(op);
    this.weight += weight;
  }

  private addEntry(home: string, score: number, tweetId: string): void {
    let group = this.openAdds.get(home);
    if (!group) {
      group = { kind: 'addEntries', homeOf: home, entries: [] };
      this.openAdds.set(home, group);
      this.ops.push(group);
    }
    group.entries.push({ score, tweetId });
    this.weight += 1;
  }

  plan(event: DecodedEvent): void {
    const g = this.graph;
    switch (event.type) {
      case 'UserCreated': {
        const id = lower(event.data.userId);
        if (g.exists(id)) return;
        g.setExists(id, true);
        this.touch(id);
        this.push({
          kind: 'putUser',
          userId: id,
          username: event.data.username,
          displayName: event.data.displayName,
        });
        return;
      }
      case 'UserProfileUpdated': {
        const id = lower(event.data.userId);
        if (!g.exists(id) || event.data.displayName === undefined) return;
        this.push({ kind: 'updateUser', userId: id, displayName: event.data.displayName });
        return;
      }
      case 'UserDeleted': {
        const id = lower(event.data.userId);
        if (!g.exists(id)) return;
        const followers = [...g.followers(id)];
        const following = [...(g.following(id) ?? [])];
        for (const f of followers) {
          this.touch(f);
          g.following(f)?.delete(id);
        }
        for (const f of following) g.followersIfLoaded(f)?.delete(id);
        this.touch(id);
        g.setExists(id, false);
        g.forget(id);
        this.push(
          { kind: 'deleteUser', userId: id, followers, following },
          2 * followers.length + following.length + 8,
        );
        return;
      }
      case 'Followed': {
        const a = lower(event.data.followerId);
        const b = lower(event.data.followeeId);
        if (a === b || !g.exists(a) || !g.exists(b)) return;
        const followers = g.followers(b);
        if (followers.has(a)) return;
        followers.add(a);
        g.following(a)?.add(b);
        // Sticky: once above the threshold an author stays a celebrity, so that the state is a
        // function of the log (dropping back would need a mass merge into every follower's home).
        if (!g.isCelebrity(b) && followers.size > this.options.fanoutMaxFollowers) {
          g.addCelebrity(b);
          this.push({ kind: 'becomeCelebrity', userId: b });
        }
        this.touch(a);
        this.push({ kind: 'follow', followerId: a, followeeId: b, merge: !g.isCelebrity(b) }, 4);
        return;
      }
      case 'Unfollowed': {
        const a = lower(event.data.followerId);
        const b = lower(event.data.followeeId);
        if (!g.exists(a) || !g.exists(b)) return;
        const followers = g.followers(b);
        if (!followers.has(a)) return;
        followers.delete(a);
        g.following(a)?.delete(b);
        this.touch(a);
        this.push({ kind: 'unfollow', followerId: a, followeeId: b }, 4);
        return;
      }
      case 'TweetPosted': {
        const tweetId = lower(event.data.tweetId);
        const authorId = lower(event.data.authorId);
        if (!g.exists(authorId)) return;
        const score = timelineScore(event.data.createdAt);
        this.tweetAuthors.set(tweetId, authorId);
        this.push(
          {
            kind: 'putTweet',
            score,
            body: { id: tweetId, authorId, text: event.data.text, createdAt: event.data.createdAt },
          },
          2,
        );
        this.addEntry(authorId, score, tweetId);
        if (g.isCelebrity(authorId)) return;
        for (const follower of g.followers(authorId)) this.addEntry(follower, score, tweetId);
        return;
      }
      case 'TweetDeleted': {
        const tweetId = lower(event.data.tweetId);
        const authorId = lower(event.data.authorId);
        if (!g.exists(authorId)) return;
        // Everyone who may hold it: the author and the current followers (an unfollow already
        // removed it from former followers; a celebrity's older tweets may still be fanned out).
        const homesOf = [authorId, ...g.followers(authorId)];
        for (const home of homesOf) this.touch(home);
        this.push({ kind: 'removeTweet', authorId, tweetId, homesOf }, homesOf.length + 2);
        return;
      }
      default:
        assertNever(event);
    }
  }
}

/** Plans a whole list of events (tests and small batches). */
export function planTimelines(
  events: readonly DecodedEvent[],
  graph: FollowGraph,
  options: PlanOptions,
): TimelineOp[] {
  const planner = new TimelinePlanner(graph, options);
  for (const event of events) planner.plan(event);
  return planner.ops;
}

/** A follow graph held in memory: the adapter's cache, and the unit tests' stand-in for Redis. */
export class MemoryFollowGraph implements FollowGraph {
  readonly users = new Map<string, boolean>();
  readonly followerSets = new Map<string, Set<string>>();
  readonly followingSets = new Map<string, Set<string>>();
  readonly celebrities = new Set<string>();

  exists(userId: string): boolean {
    const known = this.users.get(userId);
    if (known === undefined) throw new Error(`graph: existence of ${userId} not loaded`);
    return known;
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
