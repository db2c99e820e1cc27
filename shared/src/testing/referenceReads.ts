/**
 * The reference model the end-to-end suite compares the query service with: what every listing
 * must show, computed from the commands the test sent (and their answers), independently of the
 * product's projections.
 */
export interface ModelUser {
  id: string;
  username: string;
  displayName: string;
  bio: string;
  createdAt: string;
  token: string;
  alive: boolean;
}

export interface ModelTweet {
  id: string;
  authorId: string;
  text: string;
  createdAt: string;
}

interface Edge {
  follower: string;
  followee: string;
  /** occurredAt of the Followed event that made the edge, in ms (read from the log). */
  at: number | null;
}

const byTimeThenId = (a: { at: number; id: string }, b: { at: number; id: string }) =>
  a.at !== b.at ? b.at - a.at : a.id < b.id ? 1 : a.id > b.id ? -1 : 0;

export class ReferenceModel {
  readonly users = new Map<string, ModelUser>();
  readonly tweets = new Map<string, ModelTweet>();
  private readonly edges = new Map<string, Edge>();

  alive(): ModelUser[] {
    return [...this.users.values()].filter((u) => u.alive);
  }

  isFollowing(a: string, b: string): boolean {
    return this.edges.has(`${a}|${b}`);
  }

  follow(a: string, b: string): void {
    if (a === b || this.isFollowing(a, b)) return;
    this.edges.set(`${a}|${b}`, { follower: a, followee: b, at: null });
  }

  unfollow(a: string, b: string): void {
    this.edges.delete(`${a}|${b}`);
  }

  /** Edges without a time yet get the one of their latest Followed event. */
  edgesWithoutTime(): Edge[] {
    return [...this.edges.values()].filter((e) => e.at === null);
  }

  setFollowTime(a: string, b: string, at: number): void {
    const edge = this.edges.get(`${a}|${b}`);
    if (edge) edge.at = at;
  }

  edgeList(): Edge[] {
    return [...this.edges.values()];
  }

  deleteUser(id: string): void {
    const user = this.users.get(id);
    if (user) user.alive = false;
    for (const [key, e] of this.edges)
      if (e.follower === id || e.followee === id) this.edges.delete(key);
    for (const [key, t] of this.tweets) if (t.authorId === id) this.tweets.delete(key);
  }

  private summary(id: string) {
    const u = this.users.get(id)!;
    return { id: u.id, username: u.username, displayName: u.displayName };
  }

  tweetView(t: ModelTweet) {
    return { ...t, author: this.summary(t.authorId) };
  }

  profile(id: string) {
    const u = this.users.get(id)!;
    const edges = this.edgeList();
    return {
      id: u.id,
      username: u.username,
      displayName: u.displayName,
      bio: u.bio,
      createdAt: u.createdAt,
      followersCount: edges.filter((e) => e.followee === id).length,
      followingCount: edges.filter((e) => e.follower === id).length,
      tweetCount: [...this.tweets.values()].filter((t) => t.authorId === id).length,
    };
  }

  followers(id: string) {
    return this.edgeList()
      .filter((e) => e.followee === id)
      .map((e) => ({ at: e.at!, id: e.follower }))
      .sort(byTimeThenId)
      .map((e) => this.summary(e.id));
  }

  following(id: string) {
    return this.edgeList()
      .filter((e) => e.follower === id)
      .map((e) => ({ at: e.at!, id: e.followee }))
      .sort(byTimeThenId)
      .map((e) => this.summary(e.id));
  }

  private sortedTweets(filter: (t: ModelTweet) => boolean) {
    return [...this.tweets.values()]
      .filter(filter)
      .map((t) => ({ at: Date.parse(t.createdAt), id: t.id, t }))
      .sort(byTimeThenId)
      .map((x) => this.tweetView(x.t));
  }

  tweetsBy(id: string) {
    return this.sortedTweets((t) => t.authorId === id);
  }

  timeline(id: string) {
    const authors = new Set([
      id,
      ...this.edgeList()
        .filter((e) => e.follower === id)
        .map((e) => e.followee),
    ]);
    return this.sortedTweets((t) => authors.has(t.authorId));
  }
}

/** A small seeded PRNG (mulberry32): the same seed drives the same sequence of commands. */
export function seededRandom(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick<T>(items: readonly T[]): T {
      if (items.length === 0) throw new Error('pick from nothing');
      return items[Math.floor(next() * items.length)]!;
    },
  };
}
