import type { LogBuilder } from './eventFactory.ts';

/** A small seeded PRNG (mulberry32): the same seed builds the same workload shape. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface WorkloadShape {
  users: number;
  follows: number;
  tweets: number;
  /** Share of the follows made before the first tweet (the rest interleave with tweets). */
  followsFirst?: number;
  unfollows?: number;
  tweetDeletions?: number;
  userDeletions?: number;
  profileUpdates?: number;
  /** Zipf exponent of the followee choice (power-law follower counts). */
  zipf?: number;
}

/**
 * Appends a social workload to `log`: users, follows with a power-law followee distribution,
 * tweets by random authors, and interleaved unfollows, deletions and profile updates.
 */
export function buildWorkload(log: LogBuilder, shape: WorkloadShape, random: () => number) {
  const users: string[] = [];
  for (let i = 0; i < shape.users; i++) users.push(log.userCreated());
  // Followee rank r is chosen with weight 1/(r+1)^s.
  const s = shape.zipf ?? 1;
  const cdf: number[] = [];
  let total = 0;
  for (let r = 0; r < users.length; r++) cdf.push((total += 1 / Math.pow(r + 1, s)));
  const followee = () => {
    const x = random() * total;
    let lo = 0;
    let hi = cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return users[lo]!;
  };
  const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)]!;
  const alive = new Set(users);
  const edges = new Set<string>();
  const edgeList: [string, string][] = [];
  const tweets: [string, string][] = [];

  const follow = () => {
    for (let tries = 0; tries < 10; tries++) {
      const a = pick(users);
      const b = followee();
      const key = `${a}|${b}`;
      if (a === b || edges.has(key) || !alive.has(a) || !alive.has(b)) continue;
      edges.add(key);
      edgeList.push([a, b]);
      log.followed(a, b);
      return;
    }
  };

  const firstFollows = Math.round(shape.follows * (shape.followsFirst ?? 0.8));
  for (let i = 0; i < firstFollows; i++) follow();
  const rest = shape.follows - firstFollows;
  const steps = shape.tweets;
  const per = (n: number | undefined) => (n ?? 0) / Math.max(1, steps);
  let carry = { follows: 0, unfollows: 0, tweetDeletions: 0, userDeletions: 0, profiles: 0 };
  for (let i = 0; i < steps; i++) {
    let author = pick(users);
    if (!alive.has(author)) author = pick(users);
    tweets.push([log.tweetPosted(author), author]);
    carry = {
      follows: carry.follows + rest / steps,
      unfollows: carry.unfollows + per(shape.unfollows),
      tweetDeletions: carry.tweetDeletions + per(shape.tweetDeletions),
      userDeletions: carry.userDeletions + per(shape.userDeletions),
      profiles: carry.profiles + per(shape.profileUpdates),
    };
    for (; carry.follows >= 1; carry.follows--) follow();
    for (; carry.unfollows >= 1; carry.unfollows--) {
      const edge = edgeList.length > 0 ? pick(edgeList) : undefined;
      if (edge && edges.delete(`${edge[0]}|${edge[1]}`)) log.unfollowed(edge[0], edge[1]);
    }
    for (; carry.tweetDeletions >= 1; carry.tweetDeletions--) {
      const [tweetId, authorId] = pick(tweets);
      log.tweetDeleted(tweetId, authorId); // may repeat or hit a deleted author: projections cope
    }
    for (; carry.profiles >= 1; carry.profiles--)
      log.profileUpdated(pick(users), { displayName: `n${Math.floor(random() * 1e6)}` });
    for (; carry.userDeletions >= 1; carry.userDeletions--) {
      const victim = pick(users);
      if (alive.delete(victim)) log.userDeleted(victim);
    }
  }
  return { users, edges: edgeList.length, tweets: tweets.length };
}
