import { assertNever, type DecodedEvent } from '@tweeter/shared';

/**
 * The read model's handling of events, free of I/O: given the part of the stored state a batch
 * touches, fold the batch's events over it and return the net writes. The adapter loads the state,
 * calls `foldReadModel`, and writes the result in one transaction.
 */

/** What of the stored state the batch touches, as loaded before the fold. */
export interface TouchedState {
  /** Ids (of those referenced) that have a user row. */
  users: Set<string>;
  /** Edges (of the referenced pairs) that exist: `pairKey(a, b)` → followed_at. */
  edges: Map<string, string>;
  /** Tweets (of the referenced ids) that exist: id → author id. */
  tweets: Map<string, string>;
}

export interface References {
  userIds: string[];
  pairs: [follower: string, followee: string][];
  tweetIds: string[];
}

export interface NewUser {
  id: string;
  username: string;
  displayName: string;
  bio: string;
  createdAt: string;
}

export interface ProfileChange {
  id: string;
  displayName: string | null;
  bio: string | null;
}

export interface Edge {
  followerId: string;
  followeeId: string;
  followedAt: string;
}

export interface NewTweet {
  id: string;
  authorId: string;
  text: string;
  createdAt: string;
}

export interface CounterDelta {
  id: string;
  followers: number;
  following: number;
  tweets: number;
}

/** The net writes of a batch, to apply in this order (user deletions last, set-based cascades). */
export interface ReadModelChanges {
  insertUsers: NewUser[];
  updateProfiles: ProfileChange[];
  upsertEdges: Edge[];
  deleteEdges: Omit<Edge, 'followedAt'>[];
  insertTweets: NewTweet[];
  deleteTweets: string[];
  counters: CounterDelta[];
  deleteUsers: string[];
}

export const pairKey = (follower: string, followee: string) => `${follower}|${followee}`;
const lower = (id: string) => id.toLowerCase();

/** The users, follow pairs and tweets whose stored state the fold needs. */
export function referencesOf(events: readonly DecodedEvent[]): References {
  const users = new Set<string>();
  const pairs = new Map<string, [string, string]>();
  const tweets = new Set<string>();
  for (const event of events) {
    switch (event.type) {
      case 'UserCreated':
      case 'UserProfileUpdated':
      case 'UserDeleted':
        users.add(lower(event.data.userId));
        break;
      case 'Followed':
      case 'Unfollowed': {
        const a = lower(event.data.followerId);
        const b = lower(event.data.followeeId);
        users.add(a).add(b);
        pairs.set(pairKey(a, b), [a, b]);
        break;
      }
      case 'TweetPosted':
      case 'TweetDeleted':
        users.add(lower(event.data.authorId));
        tweets.add(lower(event.data.tweetId));
        break;
      default:
        assertNever(event);
    }
  }
  return { userIds: [...users], pairs: [...pairs.values()], tweetIds: [...tweets] };
}

/**
 * Folds `events` (in log order) over `state`. Rules, robust to odd orders and repeats:
 * events about a user without a row (never created, or deleted) change nothing; a self-follow,
 * a repeated follow, an unfollow of a missing edge, a repeated post and a deletion of a missing
 * tweet change nothing. A deleted user's edges and tweets are removed by the adapter's cascade,
 * after the other writes: once deleted, no later event of the batch touches the user.
 */
export function foldReadModel(
  events: readonly DecodedEvent[],
  state: TouchedState,
): ReadModelChanges {
  const alive = new Set(state.users);
  const deleted: string[] = [];
  const created = new Map<string, NewUser>();
  const profiles = new Map<string, ProfileChange>();
  // Current edge state of touched pairs; the initial state is in `state.edges`.
  const edges = new Map<string, { a: string; b: string; at: string | null }>();
  const tweets = new Map<string, { authorId: string; row: NewTweet | null } | null>();

  const edgeNow = (a: string, b: string) => {
    const key = pairKey(a, b);
    let edge = edges.get(key);
    if (!edge) {
      edge = { a, b, at: state.edges.get(key) ?? null };
      edges.set(key, edge);
    }
    return edge;
  };
  const tweetNow = (id: string) =>
    tweets.has(id)
      ? tweets.get(id)!
      : state.tweets.has(id)
        ? { authorId: state.tweets.get(id)!, row: null }
        : null;

  for (const event of events) {
    switch (event.type) {
      case 'UserCreated': {
        const id = lower(event.data.userId);
        if (alive.has(id) || deleted.includes(id)) break;
        alive.add(id);
        created.set(id, {
          id,
          username: event.data.username,
          displayName: event.data.displayName,
          bio: event.data.bio,
          createdAt: event.data.createdAt,
        });
        break;
      }
      case 'UserProfileUpdated': {
        const id = lower(event.data.userId);
        if (!alive.has(id)) break;
        const { displayName, bio } = event.data;
        const row = created.get(id);
        if (row) {
          if (displayName !== undefined) row.displayName = displayName;
          if (bio !== undefined) row.bio = bio;
          break;
        }
        const change = profiles.get(id) ?? { id, displayName: null, bio: null };
        if (displayName !== undefined) change.displayName = displayName;
        if (bio !== undefined) change.bio = bio;
        profiles.set(id, change);
        break;
      }
      case 'UserDeleted': {
        const id = lower(event.data.userId);
        if (!alive.has(id)) break;
        alive.delete(id);
        deleted.push(id);
        break;
      }
      case 'Followed': {
        const a = lower(event.data.followerId);
        const b = lower(event.data.followeeId);
        if (a === b || !alive.has(a) || !alive.has(b)) break;
        const edge = edgeNow(a, b);
        if (edge.at === null) edge.at = event.metadata.occurredAt;
        break;
      }
      case 'Unfollowed': {
        const a = lower(event.data.followerId);
        const b = lower(event.data.followeeId);
        if (!alive.has(a) || !alive.has(b)) break;
        edgeNow(a, b).at = null;
        break;
      }
      case 'TweetPosted': {
        const id = lower(event.data.tweetId);
        const authorId = lower(event.data.authorId);
        if (!alive.has(authorId) || tweetNow(id) !== null || tweets.has(id)) break;
        tweets.set(id, {
          authorId,
          row: { id, authorId, text: event.data.text, createdAt: event.data.createdAt },
        });
        break;
      }
      case 'TweetDeleted': {
        const id = lower(event.data.tweetId);
        const tweet = tweetNow(id);
        if (!tweet || !alive.has(tweet.authorId)) break;
        tweets.set(id, null);
        break;
      }
      default:
        assertNever(event);
    }
  }

  const deltas = new Map<string, CounterDelta>();
  const delta = (id: string) => {
    let d = deltas.get(id);
    if (!d) deltas.set(id, (d = { id, followers: 0, following: 0, tweets: 0 }));
    return d;
  };

  const upsertEdges: Edge[] = [];
  const deleteEdges: Omit<Edge, 'followedAt'>[] = [];
  for (const [key, edge] of edges) {
    const before = state.edges.get(key) ?? null;
    if (edge.at !== null && edge.at !== before) {
      upsertEdges.push({ followerId: edge.a, followeeId: edge.b, followedAt: edge.at });
    } else if (edge.at === null && before !== null) {
      deleteEdges.push({ followerId: edge.a, followeeId: edge.b });
    }
    const change = (edge.at !== null ? 1 : 0) - (before !== null ? 1 : 0);
    if (change !== 0) {
      delta(edge.a).following += change;
      delta(edge.b).followers += change;
    }
  }

  const insertTweets: NewTweet[] = [];
  const deleteTweets: string[] = [];
  for (const [id, tweet] of tweets) {
    const storedAuthor = state.tweets.get(id);
    if (tweet?.row && storedAuthor === undefined) {
      insertTweets.push(tweet.row);
      delta(tweet.authorId).tweets += 1;
    } else if (tweet === null && storedAuthor !== undefined) {
      deleteTweets.push(id);
      delta(storedAuthor).tweets -= 1;
    }
  }

  return {
    insertUsers: [...created.values()],
    updateProfiles: [...profiles.values()],
    upsertEdges,
    deleteEdges,
    insertTweets,
    deleteTweets,
    counters: [...deltas.values()].filter((d) => d.followers || d.following || d.tweets),
    deleteUsers: deleted,
  };
}
