import {
  compareTimelineEntries,
  pageWindow as windowOf,
  type TimelineBoundary,
} from '@tweeter/shared';

/**
 * The pure part of a home-timeline read: how the Redis head (the home key and the followed
 * celebrities' author lists) and the PostgreSQL tail are put together into an exact page.
 *
 * An entry is a tweet's position (createdAt ms, id); the API's order is createdAt desc, id desc.
 * The head holds exactly the timeline's entries at or above the boundary (the prefix invariant of
 * docs/projections.md), the tail everything strictly below it, so head ++ tail is the whole
 * timeline with no overlap, whatever the cursor.
 */
export type Entry = TimelineBoundary;

/** `entry` comes strictly after `cursor` in the API's order (is on a later page). */
export const isBelow = (entry: Entry, cursor: Entry | null): boolean =>
  cursor === null || compareTimelineEntries(entry, cursor) > 0;

/** `entry` is at or above the boundary: the head is responsible for it. */
export const isAtOrAbove = (entry: Entry, boundary: Entry | null): boolean =>
  boundary === null || compareTimelineEntries(entry, boundary) <= 0;

/**
 * The first `n` head entries below the cursor: the home key's and the celebrities' lists merged in
 * order, deduplicated (a celebrity's older tweets can still sit in the home from before they became
 * one), each restricted to the head's range.
 */
export function mergeHead(
  lists: readonly (readonly Entry[])[],
  { cursor, boundary, n }: { cursor: Entry | null; boundary: Entry | null; n: number },
): Entry[] {
  const seen = new Set<string>();
  const merged: Entry[] = [];
  for (const list of lists)
    for (const entry of list) {
      if (!isBelow(entry, cursor) || !isAtOrAbove(entry, boundary) || seen.has(entry.tweetId))
        continue;
      seen.add(entry.tweetId);
      merged.push(entry);
    }
  merged.sort(compareTimelineEntries);
  return merged.slice(0, n);
}

/**
 * Where the tail continues: strictly below both the cursor and the boundary (when the cursor is
 * already past the boundary, the head has nothing left for this page).
 */
export function tailStart(cursor: Entry | null, boundary: Entry): Entry {
  return cursor !== null && compareTimelineEntries(cursor, boundary) > 0 ? cursor : boundary;
}

/** Whether the page needs rows from the tail: the head ran short and older entries exist. */
export const needsTail = (headCount: number, n: number, boundary: Entry | null): boolean =>
  boundary !== null && headCount < n;

/**
 * The page's window from `limit + 1` candidate entries in order (head first, then tail): the
 * entries shown and the position the next page continues below. The cursor is taken from the
 * entries, not from what could be rendered, so an entry dropped while rendering (a tweet deleted
 * a moment ago) never ends the listing early.
 */
export function pageWindow<T extends Entry>(
  candidates: readonly T[],
  limit: number,
): { shown: T[]; next: Entry | null } {
  const { shown, last } = windowOf(candidates, limit);
  return { shown, next: last && { score: last.score, tweetId: last.tweetId } };
}
