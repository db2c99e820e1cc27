import { validationProblem } from '@tweeter/shared';
import { z } from 'zod';

export const idField = z
  .uuid()
  .meta({ description: 'UUIDv7', example: '01890a5d-ac96-774b-bcce-b302099a8057' });
export const timestampField = z.iso
  .datetime({ precision: 3 })
  .meta({ description: 'RFC 3339 UTC with milliseconds', example: '2026-11-24T10:15:30.123Z' });

export const iso = (date: Date | string | null): string | null =>
  date === null ? null : new Date(date).toISOString();

/** `?limit=` (1–100, default 20) and an opaque `?cursor=` (the last item's id, base64url). */
export const pageQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});

export const encodeCursor = (id: string): string => Buffer.from(id).toString('base64url');

export function decodeCursor(cursor: string | undefined): string | null {
  if (cursor === undefined) return null;
  const id = Buffer.from(cursor, 'base64url').toString();
  if (!z.uuid().safeParse(id).success)
    throw validationProblem('The cursor is not valid', [{ path: 'cursor', message: 'malformed' }]);
  return id;
}

/** A page of `limit` items from `limit + 1` rows: the extra row says there is a next page. */
export function pageOf<T extends { id: string }, V>(
  rows: T[],
  limit: number,
  view: (row: T) => V,
): { data: V[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return {
    data: items.map(view),
    nextCursor: rows.length > limit && last ? encodeCursor(last.id) : null,
  };
}

export const pageSchema = <T extends z.ZodType>(item: T, id: string) =>
  z
    .object({
      data: z.array(item),
      nextCursor: z.string().nullable().meta({ description: 'Opaque; null on the last page' }),
    })
    .meta({ id });

/** Sets `Link: <…?cursor=…&limit=…>; rel="next"` when there is a next page. */
export function nextLink(path: string, limit: number, nextCursor: string | null): string | null {
  return nextCursor === null
    ? null
    : `<${path}?cursor=${encodeURIComponent(nextCursor)}&limit=${limit}>; rel="next"`;
}
