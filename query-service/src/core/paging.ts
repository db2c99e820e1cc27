import { validationProblem } from '@tweeter/shared';
import type { Request, Response } from 'express';
import { z } from 'zod';
import type { CursorCodec, KeysetPosition, ListingKind } from './cursor.ts';

export const defaultPageLimit = 20;
export const maxPageLimit = 100;

export interface PageRequest {
  limit: number;
  /** Strictly below this position; null: from the newest item. */
  after: KeysetPosition | null;
}

const single = (value: unknown, name: string): string | undefined => {
  if (value === undefined) return undefined;
  if (typeof value !== 'string')
    throw validationProblem(`Give ${name} once`, [{ path: name, message: 'must be given once' }]);
  return value;
};

/** `limit` (1–100, default 20) and `cursor` of a listing request; 400 for anything else. */
export function pageRequestOf(
  req: Request,
  codec: CursorCodec,
  kind: ListingKind,
  subjectId: string,
): PageRequest {
  const query = req.query as Record<string, unknown>;
  const rawLimit = single(query.limit, 'limit');
  const rawCursor = single(query.cursor, 'cursor');
  let limit = defaultPageLimit;
  if (rawLimit !== undefined) {
    if (!/^\d{1,3}$/.test(rawLimit) || Number(rawLimit) < 1 || Number(rawLimit) > maxPageLimit)
      throw validationProblem('The limit is invalid', [
        { path: 'limit', message: `must be a whole number from 1 to ${maxPageLimit}` },
      ]);
    limit = Number(rawLimit);
  }
  const after =
    rawCursor === undefined || rawCursor === '' ? null : codec.decode(kind, subjectId, rawCursor);
  return { limit, after };
}

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

/**
 * Sends a page and, when there is a next one, `Link: <path?cursor=…&limit=…>; rel="next"` (relative
 * to the request, as GitHub's API does with absolute ones). Written directly rather than through
 * express's `res.json`, which would also hash every body for an ETag: listings change with every
 * post, so a validator would rarely match, and the hash is a large share of a warm timeline read.
 */
export function sendPage<T>(req: Request, res: Response, page: Page<T>, limit: number): void {
  if (page.nextCursor !== null)
    res.setHeader(
      'Link',
      `<${req.baseUrl}${req.path}?cursor=${page.nextCursor}&limit=${limit}>; rel="next"`,
    );
  const body = JSON.stringify(page);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

/** Query parameters of every listing, for the OpenAPI document. */
export const pageQuerySchema = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(maxPageLimit)
    .optional()
    .meta({ description: `Items per page, 1–${maxPageLimit} (default ${defaultPageLimit})` }),
  cursor: z
    .string()
    .optional()
    .meta({ description: 'Opaque: the nextCursor of the previous page of the same listing' }),
});

export const pageHeaders = {
  Link: {
    description: 'Present when there is a next page: `<…?cursor=…&limit=…>; rel="next"`',
    schema: { type: 'string' as const },
  },
};

export const pageSchemaOf = <T extends z.ZodType>(item: T, id: string) =>
  z
    .object({
      data: z.array(item),
      nextCursor: z
        .string()
        .nullable()
        .meta({ description: 'Pass as ?cursor= for the next page; null on the last page' }),
    })
    .meta({ id });

/**
 * From `limit + 1` rows fetched: the page of `limit` and the cursor after its last item when more
 * rows exist. Fetching one extra row is what tells a full last page from one with a next page.
 */
export function pageOf<Row, Item>(
  rows: readonly Row[],
  limit: number,
  toItem: (row: Row) => Item,
  positionOf: (row: Row) => KeysetPosition,
  cursorOf: (position: KeysetPosition) => string,
): Page<Item> {
  const shown = rows.slice(0, limit);
  const last = shown.at(-1);
  return {
    data: shown.map(toItem),
    nextCursor: rows.length > limit && last !== undefined ? cursorOf(positionOf(last)) : null,
  };
}
