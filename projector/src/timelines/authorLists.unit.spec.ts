import { describe, expect, it } from 'vitest';
import { AuthorLists, CompleteLists, newestFirst } from './authorLists.ts';
import type { Entry } from './stepPlan.ts';

/** An entry whose 16-byte member ends in `n` (so members order as their numbers). */
const entry = (score: number, n: number): Entry => {
  const member = Buffer.alloc(16);
  member.writeUInt32BE(n, 12);
  return { score, member };
};
/** Entries as comparable [score, member hex] pairs, in the order given. */
const pairs = (entries: Entry[]) => entries.map((e) => [e.score, e.member.toString('hex')]);
const hexes = (members: Buffer[]) => members.map((m) => m.toString('hex')).sort();

const alice = 'a0000000-0000-7000-8000-000000000001';
const bob = 'b0000000-0000-7000-8000-000000000002';

/** A cache of `limit` entries in which alice and bob were created and alice posted twice. */
function aliceWithTwo(limit: number): { complete: CompleteLists; lists: AuthorLists } {
  const complete = new CompleteLists(limit);
  const lists = new AuthorLists(complete);
  lists.created(alice);
  lists.created(bob);
  lists.post(alice, entry(1, 1));
  lists.post(alice, entry(2, 2));
  return { complete, lists };
}

describe('AuthorLists with CompleteLists', () => {
  // Batch 1 creates alice, who posts four tweets (two with the same score) and deletes one.
  const e1 = entry(100, 1);
  const e2 = entry(200, 2);
  const e3 = entry(200, 3);
  const e4 = entry(300, 4);
  const batch1 = (complete: CompleteLists) => {
    const lists = new AuthorLists(complete);
    expect(lists.isLoaded(alice)).toBe(false);
    lists.created(alice);
    for (const e of [e1, e2, e3, e4]) lists.post(alice, e);
    lists.delete(alice, e2.member);
    return lists;
  };

  it('answers for a user created in an earlier batch without a load', () => {
    const complete = new CompleteLists(1000);
    const first = batch1(complete);
    expect(first.isLoaded(alice)).toBe(true);
    expect(pairs(first.newest(alice, 10))).toEqual(pairs([e4, e3, e1]));
    expect(complete.has(alice)).toBe(true);

    // Batch 2: a fresh AuthorLists on the same cache, nothing loaded.
    const second = new AuthorLists(complete);
    expect(second.isLoaded(alice)).toBe(true);
    expect(pairs(second.newest(alice, 10))).toEqual(pairs([e4, e3, e1]));
    expect(pairs(second.newest(alice, 2))).toEqual(pairs([e4, e3]));
    expect(pairs(second.atOrAbove(alice, 200))).toEqual(pairs([e4, e3]));
    expect(pairs(second.atOrAbove(alice, 301))).toEqual([]);
    expect(pairs(second.atOrAbove(alice, null))).toEqual(pairs([e4, e3, e1]));
    expect(hexes(second.allMembers(alice))).toEqual(hexes([e1, e3, e4].map((e) => e.member)));

    // Batch 2's own posts and deletions are seen by it and kept for batch 3.
    const e5 = entry(400, 5);
    second.post(alice, e5);
    second.delete(alice, e4.member);
    expect(pairs(second.newest(alice, 10))).toEqual(pairs([e5, e3, e1]));
    expect(hexes(second.allMembers(alice))).toContain(e5.member.toString('hex'));
    const third = new AuthorLists(complete);
    expect(pairs(third.newest(alice, 10))).toEqual(pairs([e5, e3, e1]));
    expect(pairs(third.atOrAbove(alice, 150))).toEqual(pairs([e5, e3]));
  });

  it('answers newest first: score desc, then member desc', () => {
    const complete = new CompleteLists(1000);
    batch1(complete);
    const listed = new AuthorLists(complete).newest(alice, 10);
    expect([...listed].sort(newestFirst)).toEqual(listed);
    // e3 and e2 shared a score: the larger member first (e2 is deleted, e3 stays before e1).
    expect(listed.map((e) => e.member.readUInt32BE(12))).toEqual([4, 3, 1]);
  });

  it('forgets a deleted user: the next batch has to load its list', () => {
    const complete = new CompleteLists(1000);
    batch1(complete);
    const second = new AuthorLists(complete);
    expect(second.isLoaded(alice)).toBe(true);
    second.forget(alice);
    expect(complete.has(alice)).toBe(false);
    const third = new AuthorLists(complete);
    expect(third.isLoaded(alice)).toBe(false);
    expect(() => third.newest(alice, 1)).toThrow(/not loaded/);
  });

  it('clears everything once it holds more entries than its limit', () => {
    const { complete, lists } = aliceWithTwo(3);
    lists.post(bob, entry(3, 3));
    // At the limit: kept.
    complete.bound();
    expect([complete.has(alice), complete.has(bob)]).toEqual([true, true]);
    // A deletion lowers the count; a post again is one more.
    lists.delete(alice, entry(1, 1).member);
    lists.post(bob, entry(4, 4));
    complete.bound();
    expect([complete.has(alice), complete.has(bob)]).toEqual([true, true]);
    // A post of a member held already does not count twice.
    lists.post(bob, entry(4, 4));
    complete.bound();
    expect(complete.has(bob)).toBe(true);
    lists.post(bob, entry(5, 5));
    complete.bound();
    expect([complete.has(alice), complete.has(bob)]).toEqual([false, false]);
    const next = new AuthorLists(complete);
    expect([next.isLoaded(alice), next.isLoaded(bob)]).toEqual([false, false]);
  });

  it('counts a forgotten list’s entries out of the limit', () => {
    const { complete, lists } = aliceWithTwo(2);
    lists.forget(alice);
    lists.post(bob, entry(3, 3));
    lists.post(bob, entry(4, 4));
    // Two held (bob's): at the limit, kept.
    complete.bound();
    expect(complete.has(bob)).toBe(true);
  });

  it('does not hold an author the cache did not see created', () => {
    const complete = new CompleteLists(1000);
    const first = new AuthorLists(complete);
    first.post(bob, entry(10, 10));
    expect(first.isLoaded(bob)).toBe(false);
    expect(complete.has(bob)).toBe(false);
    expect(() => first.newest(bob, 1)).toThrow(/not loaded/);
    first.load(bob, [entry(5, 5)]);
    expect(first.isLoaded(bob)).toBe(true);
    expect(pairs(first.newest(bob, 10))).toEqual(pairs([entry(10, 10), entry(5, 5)]));
    // What one batch loaded is not kept for the next.
    expect(complete.has(bob)).toBe(false);
    expect(new AuthorLists(complete).isLoaded(bob)).toBe(false);
  });
});
