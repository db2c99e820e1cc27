import {
  assertNever,
  timelineScore,
  type DecodedEvent,
  type Position,
  type TimelineKeys,
} from '@tweeter/shared';
import type { AuthorLists } from './authorLists.ts';
import { type AuthorNeed } from './authorLists.ts';
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
  type RuleContext,
} from './rules/index.ts';
import { StepPlan } from './stepPlan.ts';

/**
 * The timelines projection's handling of events, free of I/O: events + what the batch loaded (the
 * projection's own follow graph, authors' lists, home boundaries) → each step's writes. This file
 * decides which rule (rules/) applies to which event and keeps the graph and the lists in step;
 * each rule plans its own writes.
 */

/** What of the graph planning a batch reads (loaded in this order: see followGraphCache.ts). */
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

/**
 * What else planning `events` reads, once the graph is loaded: the boundaries of the homes an
 * unfollow or a deletion unmerges from, then (given those) how much of which authors' lists.
 */
export function listsNeededBy(
  events: readonly DecodedEvent[],
  graph: FollowGraph,
  cap: number,
): {
  boundaries: Set<string>;
  authors: (boundaries: ReadonlyMap<string, number | null>) => Map<string, AuthorNeed>;
} {
  const deletedUsers = new Set<string>();
  const deletions = new Map<string, number>();
  const followees = new Set<string>();
  const unfollows: [string, string][] = [];
  const laterFollowers = new Map<string, Set<string>>();
  for (const event of events) {
    switch (event.type) {
      case 'UserDeleted':
        deletedUsers.add(lower(event.data.userId));
        break;
      case 'Followed': {
        const b = lower(event.data.followeeId);
        followees.add(b);
        let set = laterFollowers.get(b);
        if (!set) laterFollowers.set(b, (set = new Set()));
        set.add(lower(event.data.followerId));
        break;
      }
      case 'Unfollowed':
        unfollows.push([lower(event.data.followerId), lower(event.data.followeeId)]);
        break;
      case 'TweetDeleted': {
        const a = lower(event.data.authorId);
        deletions.set(a, (deletions.get(a) ?? 0) + 1);
        break;
      }
      default:
        break;
    }
  }
  // The homes a deleted user may be unmerged from: followers now and those who follow later on.
  const unmergedFrom = new Map<string, Set<string>>();
  const homesOf = (author: string) => {
    let set = unmergedFrom.get(author);
    if (!set) unmergedFrom.set(author, (set = new Set()));
    return set;
  };
  for (const [a, b] of unfollows) homesOf(b).add(a);
  for (const x of deletedUsers) {
    const homes = homesOf(x);
    if (graph.exists(x)) for (const f of graph.followers(x)) homes.add(f);
    for (const f of laterFollowers.get(x) ?? []) homes.add(f);
  }
  const boundaries = new Set<string>();
  for (const homes of unmergedFrom.values()) for (const h of homes) boundaries.add(h);
  return {
    boundaries,
    authors: (loaded) => {
      const needs = new Map<string, AuthorNeed>();
      const need = (author: string) => {
        let n = needs.get(author);
        if (!n) needs.set(author, (n = { newest: 0, floor: Number.POSITIVE_INFINITY }));
        return n;
      };
      for (const b of followees) need(b).newest = cap + (deletions.get(b) ?? 0);
      for (const [author, homes] of unmergedFrom) {
        const n = need(author);
        for (const h of homes) {
          const floor = loaded.get(h) ?? null;
          if (n.floor !== null) n.floor = floor === null ? null : Math.min(n.floor, floor);
        }
      }
      for (const x of deletedUsers) need(x).floor = null;
      return needs;
    },
  };
}

export interface PlanOptions {
  /** Authors with more followers than this are not fanned out (FANOUT_MAX_FOLLOWERS). */
  fanoutMaxFollowers: number;
  /** Home timeline cap (800). */
  cap: number;
}

/** What planning a batch reads, loaded before it: see followGraphCache.ts. */
export interface PlanInputs {
  graph: FollowGraph;
  authors: AuthorLists;
  boundaries: ReadonlyMap<string, number | null>;
  keys: TimelineKeys;
}

/**
 * The copy's keys of users, each built once per planner (a batch). The shared effects are kept by
 * key: a key built once is one flat string whose hash V8 keeps, found at once; a key built for
 * every event is a new concatenation, flattened and hashed again at every lookup.
 */
function keysOnce(keys: TimelineKeys): TimelineKeys {
  const once = (build: (id: string) => string) => {
    const built = new Map<string, string>();
    return (id: string) => {
      let key = built.get(id);
      if (key === undefined) built.set(id, (key = build(id)));
      return key;
    };
  };
  return {
    ...keys,
    author: once((id) => keys.author(id)),
    followers: once((id) => keys.followers(id)),
    following: once((id) => keys.following(id)),
    user: once((id) => keys.user(id)),
  };
}

/**
 * Plans events in log order against the batch's inputs, updating the graph and the lists as it
 * goes, into the current step (`step`; `nextStep` starts another). Events about users that do
 * not exist change nothing (odd orders, repeats), like in the read model.
 */
export class TimelinePlanner {
  step = new StepPlan();
  /** The rules' context, one for every event: the step and the position change (rules keep none). */
  private readonly ctx: { -readonly [K in keyof RuleContext]: RuleContext[K] };

  constructor(
    private readonly inputs: PlanInputs,
    private readonly options: PlanOptions,
  ) {
    this.ctx = {
      plan: this.step,
      graph: inputs.graph,
      authors: inputs.authors,
      boundaries: inputs.boundaries,
      keys: keysOnce(inputs.keys),
      cap: options.cap,
      position: '' as Position,
    };
  }

  /** Ends the current step: later events plan into a new one. */
  nextStep(): StepPlan {
    const done = this.step;
    this.step = new StepPlan();
    return done;
  }

  plan(event: DecodedEvent): void {
    const { graph: g } = this.inputs;
    const ctx = this.ctx;
    ctx.plan = this.step;
    ctx.position = event.position;
    switch (event.type) {
      case 'UserCreated': {
        const id = lower(event.data.userId);
        if (g.exists(id)) return;
        g.setExists(id, true);
        this.inputs.authors.created(id);
        storeUser(ctx, id, event.data.username, event.data.displayName);
        return;
      }
      case 'UserProfileUpdated': {
        const id = lower(event.data.userId);
        if (!g.exists(id) || event.data.displayName === undefined) return;
        updateUser(ctx, id, event.data.displayName);
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
        deleteUser(ctx, id, followers, following);
        this.inputs.authors.forget(id);
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
          markCelebrity(ctx, b);
        mergeIntoHome(ctx, a, b, !g.isCelebrity(b));
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
        unmergeFromHome(ctx, a, b);
        return;
      }
      case 'TweetPosted': {
        const tweetId = lower(event.data.tweetId);
        const authorId = lower(event.data.authorId);
        if (!g.exists(authorId)) return;
        const score = timelineScore(event.data.createdAt);
        const { text, createdAt } = event.data;
        const entry = storeTweet(ctx, { id: tweetId, authorId, text, createdAt }, score);
        pushToHome(ctx, authorId, entry);
        if (g.isCelebrity(authorId)) return;
        for (const follower of g.followers(authorId)) pushToHome(ctx, follower, entry);
        return;
      }
      case 'TweetDeleted': {
        const tweetId = lower(event.data.tweetId);
        const authorId = lower(event.data.authorId);
        if (!g.exists(authorId)) return;
        removeTweet(ctx, authorId, tweetId, [authorId, ...g.followers(authorId)]);
        return;
      }
      default:
        assertNever(event);
    }
  }
}
