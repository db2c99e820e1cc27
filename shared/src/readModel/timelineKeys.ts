import calculateSlot from 'cluster-key-slot';

/**
 * The Redis layout of the `timelines` projection, as the query service reads it.
 *
 * All keys live under the connection's REDIS_PREFIX (ioredis keyPrefix) and then under a copy
 * namespace `tl:<version>:` (default version `v1`; the live version is in
 * `projections.active_copies`). Every key of user U carries the hash tag of U's home group
 * (`homeGroups`), so that U's keys share a Redis Cluster slot, and so do those of every user of
 * the group; a tweet body carries the tag of a group of tweets.
 *
 * Author lists: member = the tweet id as 16 raw bytes (UUIDv7, so byte order = id order), score =
 * createdAt in epoch milliseconds. `ZRANGE key +inf -inf BYSCORE REV` therefore yields createdAt
 * desc, then id desc: exactly the order of the API.
 *
 * Home timelines are stored newest first (since layout 2; `meta.layout`): member = the id's 16
 * bytes complemented (`encodeHomeMember`), score = −createdAt (`homeScore`), so that plain ascending
 * order is the API's order. A new entry, the newest, then lands at the head of the sorted set's
 * listpack, which Redis finds at once, instead of at its tail after a scan of every entry (about
 * 2.4× cheaper per write into a full home); the trim cuts the tail. The boundary fields of the
 * user hash stay in the plain form.
 *
 * THE PREFIX INVARIANT. Let T(U) be U's true home timeline without the tweets of followed
 * celebrities (authors in `celebs`): U's own tweets and those of every non-celebrity U follows,
 * not deleted. The home key holds exactly the entries of T(U) whose (score, id) is >= U's boundary
 * (fields `bs` score and `bm` member of the user hash); with no boundary, all of T(U). The boundary
 * is set when the timeline is trimmed to `homeTimelineCap` entries (it is the oldest entry kept) and
 * never moves down. So the home timeline of the API is, once caught up:
 *   head = (home key ∪ author lists of the followed celebrities), each restricted to >= boundary;
 *   tail = the read model's tweets of U and everyone U follows, strictly below the boundary.
 */

export const homeTimelineCap = 800;
export const defaultTimelinesVersion = 'v1';

/** Key versions: short, safe inside a key. */
export function isTimelinesVersion(version: string): boolean {
  return /^[A-Za-z0-9_-]{1,32}$/.test(version);
}

export interface TimelineKeys {
  /** Namespace of the copy, e.g. `tl:v1:` (under the connection's REDIS_PREFIX). */
  readonly namespace: string;
  /**
   * Hash: `checkpoint` (log position of the last event applied) and `live` ('1' once the copy has
   * caught up with the head of the log since it was (re)built). Missing: the copy is empty or was
   * flushed, and is being rebuilt; answer from PostgreSQL. Also `partitions` (the copy's count
   * of fan-out partitions, fixed until a rebuild; absent or 0: homes are written by the planner
   * itself), `layout` (the homes' layout, `homeLayout`: a copy without it is rebuilt, and not read
   * meanwhile), and the projector's step bookkeeping (`busy`, `wal`, `walTo`).
   */
  readonly meta: string;
  /** Set of the user ids whose tweets are not fanned out (sticky: once above the threshold). */
  readonly celebs: string;
  /** Sorted set: U's home timeline head (see the prefix invariant), newest first. */
  home(userId: string): string;
  /** The home script's keys of U, with one hash of the id: `home`, `user` and `stream`. */
  homeScriptKeys(userId: string): [home: string, user: string, stream: string];
  /**
   * Hash: `u` username and `d` display name, present exactly while U exists; the boundary `bs`
   * (score) and `bm` (16-byte member) once the home timeline was trimmed; `s`, the position of
   * the last operation applied to the home (the projector's exactly-once stamp); `w`, the time (ms)
   * until which the home is watched (set by the query services while U has a stream open) and `f`
   * while U's home stream exists (the home script's). Its absence (of `u`) for a user
   * the read model knows (while `meta.live` is '1') means the user's Redis data was lost.
   */
  user(userId: string): string;
  /** Sorted set: every live tweet of U, same member/score encoding as home timelines (uncapped). */
  author(userId: string): string;
  /** Set of follower ids (UUID strings): the projection's own follow graph. */
  followers(userId: string): string;
  /** Set of followee ids (UUID strings). */
  following(userId: string): string;
  /** String: the tweet body as JSON (`TweetBody`); tagged by a group of tweets (layout 3). */
  tweet(tweetId: string): string;
  /** The prefix of tweet body keys. */
  readonly tweetPrefix: string;
  /**
   * Stream: the fan-out chunks of partition `p` (homes whose owner `timelinePartition` maps to
   * p), in log order: each entry `to` (the step's end position) and `homes` (the encoded home
   * operations). Written by the planner, read and trimmed by the partition's applier.
   */
  fanout(partition: number): string;
  /**
   * Hash, same slot as `fanout(p)`: `checkpoint` (every operation of the partition up to it is in
   * its homes), `lastId` (the last chunk applied), `owner` (the applying process), `at` (ms).
   */
  partition(partition: number): string;
  /** Hash: projector process → the time (ms) its membership in the fan-out expires. */
  readonly members: string;
  /**
   * Stream, same slot as U's home: the recent changes of U's home timeline for live clients
   * (the streaming API), written by the home script while the copy is live. Entry ids are the
   * log positions of the events (`streamIdOf`); fields `k` (`u`: a tweet arrived, `d`: tweets
   * left) and `m` (home members, 16 bytes each). Capped (about TIMELINE_STREAM_LENGTH entries).
   * Written only while U's home is watched (`w` of the user hash); a change applied to a home
   * nobody watches deletes its stream, so a stream always holds every change after its first
   * entry.
   */
  stream(userId: string): string;
}

/** FNV-1a of an id's lower-case text: home groups, fan-out partitions and body tags come from it. */
function idHash(text: string): number {
  let h = 0x811c9dc5;
  const id = text.toLowerCase();
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * The partition of a home owner among `count`: fixed for a copy, as the count is
 * (`meta.partitions`). With a count that divides `homeGroups`, every home group lies in one
 * partition.
 */
export function timelinePartition(userId: string, count: number): number {
  return idHash(userId) % count;
}

/**
 * Home groups (layout 3): a user's keys carry the hash tag of the user's group (`homeGroupTag`),
 * not of the user, so that the homes of a group share a Redis Cluster slot and one script call
 * writes several of them, as a bundle of homes does on one server (and likewise the shared
 * effects on the group's lists, follow sets and user hashes): a fan-out to 1,000 followers lands
 * in about 250 groups, written in about 400 calls instead of 1,000. More groups spread the homes finer, fewer bundle more homes per call: 256
 * lets a cluster use up to 256 masters, moves homes between masters (resharding) a 256th at a
 * time, and, with the groups spread evenly over the slots, gives masters that hold equal ranges
 * of slots equal shares of the homes (docs/projections.md has the measurements). The count is
 * part of the layout: changing it means a new layout, and every copy rebuilt.
 */
export const homeGroups = 256;

/** The home group of a user (`homeGroups`). */
export function homeGroup(userId: string): number {
  return idHash(userId) % homeGroups;
}

let groupTags: string[] | undefined;

/**
 * The hash tag of home group `g`: `h<g>.<n>`, with the first `n` whose slot falls in the g-th of
 * `homeGroups` equal ranges of the 16,384 slots, so that the groups spread evenly over the slots
 * and a cluster whose masters hold equal ranges of slots (as `redis-cli --cluster create` makes
 * them) holds equal shares of the homes. Found once per process (about 45,000 CRC16s, ~10 ms).
 */
export function homeGroupTag(g: number): string {
  if (!groupTags) {
    const tags: string[] = [];
    for (let group = 0; group < homeGroups; group++) {
      const low = (group * 16384) / homeGroups;
      const high = ((group + 1) * 16384) / homeGroups;
      for (let n = 0; ; n++) {
        const tag = `h${group}.${n}`;
        const slot = calculateSlot(tag);
        if (slot >= low && slot < high) {
          tags.push(tag);
          break;
        }
      }
    }
    groupTags = tags;
  }
  return groupTags[g]!;
}

/** The `{tag}` of a user's keys. */
const homeTag = (userId: string) => `{${homeGroupTag(homeGroup(userId))}}`;

/**
 * The `{tag}` of a tweet body: the tag of a group by the tweet id's hash, so that a step's bodies
 * go in one MSET per group on a cluster (about 256 MSETs for a catch-up step's 50,000 bodies,
 * not one per slot of 16,384); the home groups' tags, which spread evenly.
 */
const bodyTag = (tweetId: string) => `{${homeGroupTag(idHash(tweetId) % homeGroups)}}`;

export function timelineKeys(version: string = defaultTimelinesVersion): TimelineKeys {
  if (!isTimelinesVersion(version)) throw new RangeError(`Not a timelines version: ${version}`);
  const ns = `tl:${version}:`;
  const home = (tag: string, u: string) => `${ns}home:${tag}${u}`;
  const user = (tag: string, u: string) => `${ns}user:${tag}${u}`;
  const stream = (tag: string, u: string) => `${ns}stream:${tag}${u}`;
  return {
    namespace: ns,
    meta: `${ns}meta`,
    celebs: `${ns}celebs`,
    home: (u) => home(homeTag(u), u),
    homeScriptKeys: (u) => {
      const tag = homeTag(u);
      return [home(tag, u), user(tag, u), stream(tag, u)];
    },
    user: (u) => user(homeTag(u), u),
    author: (u) => `${ns}author:${homeTag(u)}${u}`,
    followers: (u) => `${ns}followers:${homeTag(u)}${u}`,
    following: (u) => `${ns}following:${homeTag(u)}${u}`,
    tweet: (t) => `${ns}t:${bodyTag(t)}${t}`,
    tweetPrefix: `${ns}t:`,
    fanout: (p) => `${ns}fanout:{p${p}}`,
    partition: (p) => `${ns}part:{p${p}}`,
    members: `${ns}members`,
    stream: (u) => stream(homeTag(u), u),
  };
}

/** The 16 raw bytes of a UUID: the compact sorted-set member. */
export function encodeTimelineMember(uuid: string): Buffer {
  const hex = uuid.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new RangeError(`Not a UUID: ${uuid}`);
  return Buffer.from(hex, 'hex');
}

/** The UUID string of a 16-byte member. */
export function decodeTimelineMember(member: Buffer): string {
  if (member.length !== 16) throw new RangeError(`Not a timeline member: ${member.length} bytes`);
  const h = member.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The layout of home timelines that the projector writes and the query service reads. */
export const homeLayout = '3';

/** A home timeline's member: the id's 16 bytes complemented, so that ascending = id desc. */
export function encodeHomeMember(uuid: string): Buffer {
  return complementMember(encodeTimelineMember(uuid));
}

/** The tweet id of a home timeline's member. */
export function decodeHomeMember(member: Buffer): string {
  return decodeTimelineMember(complementMember(Buffer.from(member)));
}

/** Complements a 16-byte member in place (home form ↔ plain form), and returns it. */
export function complementMember(member: Buffer): Buffer {
  for (let i = 0; i < member.length; i++) member[i] = ~member[i]! & 0xff;
  return member;
}

/** A home timeline's score for an entry's plain score (createdAt ms): its negation. */
export const homeScore = (score: number): number => -score;

/** The score of an entry: createdAt in epoch milliseconds (an integer, stored compactly). */
export function timelineScore(createdAt: string | Date): number {
  const ms = typeof createdAt === 'string' ? Date.parse(createdAt) : createdAt.getTime();
  if (!Number.isFinite(ms)) throw new RangeError(`Not a timestamp: ${String(createdAt)}`);
  return ms;
}

/** A tweet body as stored under `tweet(id)`. */
export interface TweetBody {
  id: string;
  authorId: string;
  text: string;
  /** RFC 3339 with milliseconds. */
  createdAt: string;
}

export const encodeTweetBody = (body: TweetBody): string => JSON.stringify(body);
export const decodeTweetBody = (json: string): TweetBody => JSON.parse(json) as TweetBody;

/** The position of an entry in a timeline: (score, id) compared desc-first by the API's order. */
export interface TimelineBoundary {
  score: number;
  tweetId: string;
}

/**
 * The boundary of a home timeline from its user hash (HGETALL as Buffers); null when the timeline
 * was never trimmed (it then holds all of T(U)).
 */
export function decodeTimelineBoundary(
  userHash: Record<string, Buffer | undefined>,
): TimelineBoundary | null {
  const bs = userHash.bs;
  const bm = userHash.bm;
  if (!bs || !bm) return null;
  return { score: Number(bs.toString()), tweetId: decodeTimelineMember(bm) };
}

/** Orders entries as the API does: createdAt desc, then id desc. Negative when a comes first. */
export function compareTimelineEntries(a: TimelineBoundary, b: TimelineBoundary): number {
  if (a.score !== b.score) return b.score - a.score;
  return a.tweetId === b.tweetId ? 0 : a.tweetId < b.tweetId ? 1 : -1;
}

/**
 * The pub/sub channel on which the projector names the homes whose streams it wrote (user ids,
 * comma-separated): a wake-up for the query services' open streams, never their source. A channel
 * is not a key, so REDIS_PREFIX is part of the name here.
 */
export function timelineStreamChannel(redisPrefix: string, keys: TimelineKeys): string {
  return `${redisPrefix}${keys.namespace}streams`;
}

/**
 * The pattern (PSUBSCRIBE) of every copy's `timelineStreamChannel` under `redisPrefix`: any
 * version in the copy namespace `tl:<version>:`, the prefix taken literally.
 */
export function timelineStreamChannels(redisPrefix: string): string {
  const literal = redisPrefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
  return `${literal}tl:*:streams`;
}

/**
 * A log position as a Redis stream entry id: positions are two 64-bit numbers in log order, and
 * so are stream ids (`<high>-<low>`), so a home's stream is ordered and addressed by position.
 */
export function streamIdOf(position: string): string {
  const hex = position.startsWith('esdb:') ? position.slice(5) : position;
  if (!/^[0-9a-f]{32}$/.test(hex)) throw new RangeError(`Not a position: ${position}`);
  return `${BigInt(`0x${hex.slice(0, 16)}`)}-${BigInt(`0x${hex.slice(16)}`)}`;
}

/** The position a stream entry id stands for (`eventstoredb`: with that store's prefix). */
export function positionOfStreamId(id: string, eventstoredb: boolean): string {
  const m = /^(\d+)-(\d+)$/.exec(id);
  if (!m) throw new RangeError(`Not a stream id: ${id}`);
  const hex =
    BigInt(m[1]!).toString(16).padStart(16, '0') + BigInt(m[2]!).toString(16).padStart(16, '0');
  return eventstoredb ? `esdb:${hex}` : hex;
}

/** Stream ids in order (`<high>-<low>`, decimal): -1, 0 or 1. */
export function compareStreamIds(a: string, b: string): number {
  const [ah, al] = a.split('-').map(BigInt) as [bigint, bigint];
  const [bh, bl] = b.split('-').map(BigInt) as [bigint, bigint];
  if (ah !== bh) return ah < bh ? -1 : 1;
  if (al !== bl) return al < bl ? -1 : 1;
  return 0;
}
