import type { Position, TweetBody } from '@tweeter/shared';

/** A home timeline entry: score = createdAt in ms, member = the tweet id as 16 raw bytes. */
export interface Entry {
  score: number;
  member: Buffer;
}

/**
 * One operation on one home timeline, tagged with the log position of the (last) event it comes
 * from: the home's stamp (`s` of its user hash) records the last position applied, so an
 * operation at or below it is skipped when a batch is applied again after a crash.
 *
 * - `add`: the entries at or above the home's boundary join it, then it is trimmed (a push of
 *   posts, grouped while consecutive, or a follow's merge of the followee's newest entries);
 * - `remove`: these members leave it (a deleted tweet, an unfollow, a deleted author);
 * - `drop`: the home and its boundary are deleted (its owner was deleted).
 */
export type HomeOp =
  | {
      kind: 'add';
      position: Position;
      entries: Entry[];
      merge: boolean;
      /** A push's entries each come from their own post: its position (for the home's stream). */
      positions: Position[];
    }
  | { kind: 'remove'; position: Position; members: Buffer[] }
  | { kind: 'drop'; position: Position };

/**
 * The effects of a step on every key that is not a home timeline: the author lists, the follow
 * graph, user hashes' profile fields, the celebrity set, deleted keys. Kept as the net effect per
 * key and member (the last write of a step wins), so every command of it commutes with the
 * others: the effects can be sent in any order, to any node, and sent again whole after a crash.
 */
export class SharedEffects {
  /** Sorted sets: member (hex) → score to add, or null to remove. */
  readonly zsets = new Map<string, Map<string, number | null>>();
  /** Sets: member → true to add, false to remove. */
  readonly sets = new Map<string, Map<string, boolean>>();
  /** Hash fields to set, or (null) to delete. */
  readonly hashes = new Map<string, Map<string, string | null>>();
  /** Keys to delete. */
  readonly deleted = new Set<string>();

  zadd(key: string, score: number, member: Buffer): void {
    this.member(this.zsets, key).set(member.toString('hex'), score);
  }

  zrem(key: string, member: Buffer): void {
    this.member(this.zsets, key).set(member.toString('hex'), null);
  }

  sadd(key: string, member: string): void {
    this.member(this.sets, key).set(member, true);
  }

  srem(key: string, member: string): void {
    this.member(this.sets, key).set(member, false);
  }

  hset(key: string, field: string, value: string): void {
    this.member(this.hashes, key).set(field, value);
  }

  hdel(key: string, field: string): void {
    this.member(this.hashes, key).set(field, null);
  }

  /**
   * Deletes the key: earlier writes to it in the step are dropped. Deletions are sent before the
   * writes (a deleted user's keys get none after it; a write after one would recreate the key).
   */
  del(key: string): void {
    this.zsets.delete(key);
    this.sets.delete(key);
    this.hashes.delete(key);
    this.deleted.add(key);
  }

  get size(): number {
    return this.zsets.size + this.sets.size + this.hashes.size + this.deleted.size;
  }

  private member<V>(maps: Map<string, Map<string, V>>, key: string): Map<string, V> {
    let map = maps.get(key);
    if (!map) maps.set(key, (map = new Map<string, V>()));
    return map;
  }

  /** The write-ahead record of the effects (JSON; sorted-set members as hex). */
  encode(): string {
    const entries = <V>(m: Map<string, Map<string, V>>) =>
      [...m].map(([key, members]) => [key, [...members]] as const);
    return JSON.stringify({
      z: entries(this.zsets),
      s: entries(this.sets),
      h: entries(this.hashes),
      d: [...this.deleted],
    });
  }

  static decode(text: string): SharedEffects {
    const raw = JSON.parse(text) as {
      z: [string, [string, number | null][]][];
      s: [string, [string, boolean][]][];
      h: [string, [string, string | null][]][];
      d: string[];
    };
    const effects = new SharedEffects();
    for (const [key, members] of raw.z) effects.zsets.set(key, new Map(members));
    for (const [key, members] of raw.s) effects.sets.set(key, new Map(members));
    for (const [key, fields] of raw.h) effects.hashes.set(key, new Map(fields));
    for (const key of raw.d) effects.deleted.add(key);
    return effects;
  }
}

/**
 * What one step writes, by phase (see stepWriter.ts): first the tweet bodies and every home's
 * operations (homes are written only by this projection's steps, each home in one script call per
 * step), then the shared effects, which the planning of later steps reads.
 */
export class StepPlan {
  readonly homes = new Map<string, HomeOp[]>();
  readonly bodies = new Map<string, TweetBody>();
  readonly effects = new SharedEffects();
  /** Commands the step will send (entries count one each): the caller splits batches by it. */
  weight = 0;

  /** A post's entry for `home` at `position`; consecutive pushes to one home are one operation. */
  push(home: string, position: Position, entry: Entry): void {
    const ops = this.opsOf(home);
    const last = ops[ops.length - 1];
    if (last?.kind === 'add' && !last.merge) {
      last.entries.push(entry);
      last.positions.push(position);
      last.position = position;
    } else
      ops.push({ kind: 'add', position, entries: [entry], merge: false, positions: [position] });
    this.weight += 1;
  }

  /** A follow's merge of `entries` into `home` at `position`: an operation of its own. */
  merge(home: string, position: Position, entries: Entry[]): void {
    this.opsOf(home).push({ kind: 'add', position, entries, merge: true, positions: [] });
    this.weight += entries.length;
  }

  remove(home: string, position: Position, members: Buffer[]): void {
    this.opsOf(home).push({ kind: 'remove', position, members });
    this.weight += 1 + members.length;
  }

  drop(home: string, position: Position): void {
    this.opsOf(home).push({ kind: 'drop', position });
    this.weight += 2;
  }

  storeBody(body: TweetBody): void {
    this.bodies.set(body.id, body);
    this.weight += 1;
  }

  weigh(commands: number): void {
    this.weight += commands;
  }

  private opsOf(home: string): HomeOp[] {
    let ops = this.homes.get(home);
    if (!ops) this.homes.set(home, (ops = []));
    return ops;
  }
}
