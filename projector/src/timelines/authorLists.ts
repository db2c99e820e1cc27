import type { Entry } from './stepPlan.ts';

/** How much of an author's list a batch's plan reads (see `neededBy` in plan.ts). */
export interface AuthorNeed {
  /** The newest this many entries (a follow merges the newest `cap`, deletions aside). */
  newest: number;
  /**
   * Every entry with a score at or above this (an unfollow or a deletion unmerges them); null:
   * the whole list; +Infinity: none of it.
   */
  floor: number | null;
}

/**
 * Authors' lists as of the start of a batch (loaded from `author:{G}U`, which only the shared
 * phase of a step writes), plus what the batch's events did to them so far: a follow at position
 * p merges the followee's list as of p, and an unfollow removes the entries the home may hold,
 * whatever else the batch did and wherever a crashed earlier attempt of the batch stopped.
 */
export class AuthorLists {
  private readonly loaded = new Map<string, Map<string, Entry>>();
  private readonly posted = new Map<string, Map<string, Entry>>();
  private readonly deleted = new Map<string, Set<string>>();

  /**
   * `complete`: whole lists kept in memory across batches (see `CompleteLists`): an author there
   * needs no load, and this batch's posts and deletions are applied to it as they are planned.
   */
  constructor(private readonly complete?: CompleteLists) {}

  /** Records what was loaded of `authorId`'s list (entries in any order). */
  load(authorId: string, entries: Entry[]): void {
    let map = this.loaded.get(authorId);
    if (!map) this.loaded.set(authorId, (map = new Map<string, Entry>()));
    for (const e of entries) map.set(e.member.toString('hex'), e);
  }

  isLoaded(authorId: string): boolean {
    return this.loaded.has(authorId) || (this.complete?.has(authorId) ?? false);
  }

  /** A user created by this batch: the list starts empty, and the cache may keep it whole. */
  created(authorId: string): void {
    if (!this.loaded.has(authorId)) this.loaded.set(authorId, new Map());
    this.complete?.start(authorId);
  }

  /** A user deleted by this batch: its list is not kept any more. */
  forget(authorId: string): void {
    this.complete?.forget(authorId);
  }

  post(authorId: string, entry: Entry): void {
    const hex = entry.member.toString('hex');
    this.deleted.get(authorId)?.delete(hex);
    let map = this.posted.get(authorId);
    if (!map) this.posted.set(authorId, (map = new Map<string, Entry>()));
    map.set(hex, entry);
    this.complete?.post(authorId, hex, entry);
  }

  delete(authorId: string, member: Buffer): void {
    const hex = member.toString('hex');
    this.posted.get(authorId)?.delete(hex);
    let set = this.deleted.get(authorId);
    if (!set) this.deleted.set(authorId, (set = new Set()));
    set.add(hex);
    this.complete?.delete(authorId, hex);
  }

  /** The author's live entries known here, newest first. */
  private live(authorId: string): Entry[] {
    const loaded = this.loaded.get(authorId) ?? this.complete?.get(authorId);
    if (!loaded) throw new Error(`timelines: the list of ${authorId} was not loaded`);
    const gone = this.deleted.get(authorId);
    const posted = this.posted.get(authorId);
    const out: Entry[] = [];
    // The loaded entries not posted again by the batch, then the batch's posts (a list held whole
    // has them already), none deleted since: no copy of the list.
    for (const [hex, e] of loaded) if (!posted?.has(hex) && !gone?.has(hex)) out.push(e);
    for (const [hex, e] of posted ?? []) if (!gone?.has(hex)) out.push(e);
    return out.sort(newestFirst);
  }

  /** The newest `n` live entries: what a follow merges. */
  newest(authorId: string, n: number): Entry[] {
    return this.live(authorId).slice(0, n);
  }

  /** Every live entry at or above `floor` (null: all): what a home may hold of this author. */
  atOrAbove(authorId: string, floor: number | null): Entry[] {
    const live = this.live(authorId);
    return floor === null ? live : live.filter((e) => e.score >= floor);
  }

  /**
   * Every member known of the author: of a loaded list, deleted ones included; of a list held
   * whole, the live ones (a member deleted earlier had its body deleted with it).
   */
  allMembers(authorId: string): Buffer[] {
    const seen = new Map<string, Buffer>();
    for (const e of (this.loaded.get(authorId) ?? this.complete?.get(authorId))?.values() ?? [])
      seen.set(e.member.toString('hex'), e.member);
    for (const e of this.posted.get(authorId)?.values() ?? [])
      seen.set(e.member.toString('hex'), e.member);
    return [...seen.values()];
  }
}

/** Timeline order: score desc, then member desc (bytes). */
export function newestFirst(a: Entry, b: Entry): number {
  if (a.score !== b.score) return b.score - a.score;
  return Buffer.compare(b.member, a.member);
}

/**
 * Authors' whole lists, kept in process memory across batches next to the cached follow graph
 * (followGraphCache.ts) and dropped with it: the list of a user created while the cache was held
 * starts empty and is known whole from then on, so a follow's merge or an unfollow of that author
 * loads nothing. Planning updates the lists in step (a batch that fails drops them, as it drops
 * the graph); above `limit` entries in all, the cache is cleared and lists load from Redis again.
 */
export class CompleteLists {
  private readonly lists = new Map<string, Map<string, Entry>>();
  private entries = 0;

  constructor(private readonly limit: number) {}

  has(authorId: string): boolean {
    return this.lists.has(authorId);
  }

  get(authorId: string): Map<string, Entry> | undefined {
    return this.lists.get(authorId);
  }

  start(authorId: string): void {
    if (!this.lists.has(authorId)) this.lists.set(authorId, new Map());
  }

  forget(authorId: string): void {
    this.entries -= this.lists.get(authorId)?.size ?? 0;
    this.lists.delete(authorId);
  }

  post(authorId: string, hex: string, entry: Entry): void {
    const list = this.lists.get(authorId);
    if (!list || list.has(hex)) return;
    list.set(hex, entry);
    this.entries++;
  }

  delete(authorId: string, hex: string): void {
    if (this.lists.get(authorId)?.delete(hex)) this.entries--;
  }

  /** Clears the cache when it holds more than its limit. */
  bound(): void {
    if (this.entries > this.limit) this.clear();
  }

  clear(): void {
    this.lists.clear();
    this.entries = 0;
  }
}
