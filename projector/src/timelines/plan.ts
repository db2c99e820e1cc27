import { assertNever, timelineScore, type DecodedEvent } from '@tweeter/shared';
import type { FollowGraph } from './followGraph.ts';
import {
  deleteUser,
  markCelebrity,
  mergeIntoHome,
  pushToHome,
  removeTweet,
  storeTweet,
  storeUser,
  unmergeFromHome,
  updateUser,
  type PlanBuffer,
  type PushToHomeOp,
  type TimelineOp,
} from './rules/index.ts';

/**
 * The timelines projection's handling of events, free of I/O: events + the projection's own follow
 * graph → an ordered list of Redis operations. This file decides which rule (rules/) applies to
 * which event, and keeps the graph in step; each rule plans its own operation. The graph is a
 * cache of the projection's Redis sets (loaded before planning); the timeline merges and trims
 * themselves run in Lua, where they see the effects of the operations before them.
 */

export type { TimelineOp } from './rules/index.ts';

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
export class TimelinePlanner implements PlanBuffer {
  readonly ops: TimelineOp[] = [];
  /** Open add groups: a home's adds are grouped until another operation touches that home. */
  readonly openPushes = new Map<string, PushToHomeOp>();
  /** Commands the plan will send (entries count one each): the caller splits batches by it. */
  weight = 0;

  constructor(
    readonly graph: FollowGraph,
    private readonly options: PlanOptions,
  ) {}

  touch(home: string): void {
    this.openPushes.delete(home);
  }

  push(op: TimelineOp, weight = 1): void {
    this.ops.push(op);
    this.weight += weight;
  }

  weigh(weight: number): void {
    this.weight += weight;
  }

  plan(event: DecodedEvent): void {
    const g = this.graph;
    switch (event.type) {
      case 'UserCreated': {
        const id = lower(event.data.userId);
        if (g.exists(id)) return;
        g.setExists(id, true);
        storeUser(this, id, event.data.username, event.data.displayName);
        return;
      }
      case 'UserProfileUpdated': {
        const id = lower(event.data.userId);
        if (!g.exists(id) || event.data.displayName === undefined) return;
        updateUser(this, id, event.data.displayName);
        return;
      }
      case 'UserDeleted': {
        const id = lower(event.data.userId);
        if (!g.exists(id)) return;
        const followers = [...g.followers(id)];
        const following = [...(g.following(id) ?? [])];
        for (const f of followers) g.following(f)?.delete(id);
        for (const f of following) g.followersIfLoaded(f)?.delete(id);
        g.setExists(id, false);
        g.forget(id);
        deleteUser(this, id, followers, following);
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
        // Sticky: once above the threshold an author stays a celebrity (see markCelebrity).
        if (!g.isCelebrity(b) && followers.size > this.options.fanoutMaxFollowers)
          markCelebrity(this, b);
        mergeIntoHome(this, a, b, !g.isCelebrity(b));
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
        unmergeFromHome(this, a, b);
        return;
      }
      case 'TweetPosted': {
        const tweetId = lower(event.data.tweetId);
        const authorId = lower(event.data.authorId);
        if (!g.exists(authorId)) return;
        const score = timelineScore(event.data.createdAt);
        const { text, createdAt } = event.data;
        storeTweet(this, { id: tweetId, authorId, text, createdAt }, score);
        pushToHome(this, authorId, score, tweetId);
        if (g.isCelebrity(authorId)) return;
        for (const follower of g.followers(authorId)) pushToHome(this, follower, score, tweetId);
        return;
      }
      case 'TweetDeleted': {
        const tweetId = lower(event.data.tweetId);
        const authorId = lower(event.data.authorId);
        if (!g.exists(authorId)) return;
        removeTweet(this, authorId, tweetId, [authorId, ...g.followers(authorId)]);
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
