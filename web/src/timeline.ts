import type { Tweet } from './api.ts';

/** Timeline order: newest first, equal times by higher id first (the API's order). */
export function newestFirst(a: Tweet, b: Tweet): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? 1 : -1;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/** `tweets` with `more` in (replacing any with the same id), in timeline order. */
export function merge(tweets: readonly Tweet[], more: readonly Tweet[]): Tweet[] {
  const byId = new Map(tweets.map((t) => [t.id, t]));
  for (const t of more) byId.set(t.id, t);
  return [...byId.values()].sort(newestFirst);
}

export function without(tweets: readonly Tweet[], ids: readonly string[]): Tweet[] {
  const gone = new Set(ids);
  return tweets.filter((t) => !gone.has(t.id));
}
