import { compareTimelineEntries } from '@tweeter/shared';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isAtOrAbove,
  isBelow,
  mergeHead,
  needsTail,
  pageWindow,
  tailStart,
  type Entry,
} from './timelineMerge.ts';

const id = (n: number) => `00000000-0000-7000-8000-${n.toString(16).padStart(12, '0')}`;
const e = (score: number, n: number): Entry => ({ score, tweetId: id(n) });
const sorted = (entries: Entry[]) => [...entries].sort(compareTimelineEntries);

describe('home timeline merge', () => {
  it('orders by time desc, then id desc', () => {
    expect(sorted([e(1, 1), e(2, 1), e(2, 3), e(1, 2)])).toEqual([
      e(2, 3),
      e(2, 1),
      e(1, 2),
      e(1, 1),
    ]);
  });

  it('merges the home key with celebrity lists, deduplicated, below the cursor', () => {
    const home = [e(9, 9), e(7, 7), e(5, 5), e(5, 4)];
    const celebrity = [e(8, 8), e(7, 7), e(5, 6)];
    expect(mergeHead([home, celebrity], { cursor: null, boundary: null, n: 10 })).toEqual([
      e(9, 9),
      e(8, 8),
      e(7, 7),
      e(5, 6),
      e(5, 5),
      e(5, 4),
    ]);
    // Cursor inside a millisecond: only the lower ids of that millisecond follow.
    expect(mergeHead([home, celebrity], { cursor: e(5, 5), boundary: null, n: 10 })).toEqual([
      e(5, 4),
    ]);
    expect(mergeHead([home, celebrity], { cursor: e(9, 9), boundary: null, n: 2 })).toEqual([
      e(8, 8),
      e(7, 7),
    ]);
  });

  it('keeps celebrity entries below the boundary out of the head (the tail has them)', () => {
    const boundary = e(5, 5);
    expect(
      mergeHead(
        [
          [e(6, 6), e(5, 5)],
          [e(5, 16), e(5, 4), e(3, 3)],
        ],
        { cursor: null, boundary, n: 10 },
      ),
    ).toEqual([e(6, 6), e(5, 16), e(5, 5)]);
    expect(isAtOrAbove(e(5, 5), boundary)).toBe(true);
    expect(isAtOrAbove(e(5, 4), boundary)).toBe(false);
    expect(isBelow(e(5, 4), e(5, 5))).toBe(true);
    expect(isBelow(e(5, 5), e(5, 5))).toBe(false);
  });

  it('continues the tail strictly below the later of cursor and boundary', () => {
    expect(tailStart(null, e(5, 5))).toEqual(e(5, 5));
    expect(tailStart(e(9, 9), e(5, 5))).toEqual(e(5, 5));
    expect(tailStart(e(2, 2), e(5, 5))).toEqual(e(2, 2));
    expect(needsTail(3, 4, e(5, 5))).toBe(true);
    expect(needsTail(4, 4, e(5, 5))).toBe(false);
    expect(needsTail(0, 4, null)).toBe(false);
  });

  it('takes the next cursor from the entries, not from what rendered', () => {
    expect(pageWindow([e(3, 3), e(2, 2), e(1, 1)], 2)).toEqual({
      shown: [e(3, 3), e(2, 2)],
      next: e(2, 2),
    });
    expect(pageWindow([e(3, 3), e(2, 2)], 2)).toEqual({ shown: [e(3, 3), e(2, 2)], next: null });
  });

  // The property the read path relies on: paging head ++ tail with any boundary and page size
  // yields the whole timeline in order, each entry once, even with many entries per millisecond.
  it('pages through head and tail to exactly the timeline, for any boundary and page size', () => {
    const entry = fc.record({
      score: fc.integer({ min: 0, max: 12 }),
      n: fc.integer({ min: 0, max: 60 }),
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(entry, { selector: (x) => x.n, maxLength: 50 }),
        fc.uniqueArray(entry, { selector: (x) => x.n, maxLength: 20 }),
        fc.integer({ min: 0, max: 50 }),
        fc.integer({ min: 1, max: 7 }),
        (own, celebrity, cut, limit) => {
          const timeline = sorted(own.map((x) => e(x.score, x.n)));
          const celeb = sorted(celebrity.map((x) => e(x.score, x.n + 1000)));
          const all = sorted([...timeline, ...celeb]);
          // The home key holds the timeline at/above a boundary; celebrity lists are whole.
          const boundary = cut < timeline.length ? timeline[cut]! : null;
          const home = timeline.filter((x) => isAtOrAbove(x, boundary));
          const seen: Entry[] = [];
          let cursor: Entry | null = null;
          for (let guard = 0; guard < 200; guard++) {
            const n = limit + 1;
            const head = mergeHead([home, celeb], { cursor, boundary, n });
            let candidates = head;
            if (boundary && needsTail(head.length, n, boundary)) {
              const start = tailStart(cursor, boundary);
              candidates = [
                ...head,
                ...all.filter((x) => isBelow(x, start)).slice(0, n - head.length),
              ];
            }
            const { shown, next } = pageWindow(candidates, limit);
            seen.push(...shown);
            if (!next) break;
            cursor = next;
          }
          expect(seen).toEqual(all);
        },
      ),
      { numRuns: 300 },
    );
  });
});
