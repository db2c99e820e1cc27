import {
  notFound,
  pageHeaders,
  pageOf,
  pageQuerySchema,
  pageRequestOf,
  sendPage,
  type KeysetPosition,
} from '@tweeter/shared';
import type { Request, Response } from 'express';
import type { z } from 'zod';
import type { ReadModelCopy } from '../readModel/database.ts';
import { userExists } from '../readModel/users.repository.ts';
import { withRead, type QueryContext } from './context.ts';
import type { ListingKind } from './cursor.ts';
import { idPathParams, minPositionHeader, pathIdOf } from './params.ts';

/**
 * A keyset-paginated listing of one user's things from the read model: validate, wait for
 * X-Min-Position, fetch `limit + 1` rows below the cursor, answer 404 when the user does not exist.
 */
export function listingHandler<Row, Item>(
  ctx: QueryContext,
  kind: ListingKind,
  spec: {
    fetch: (
      db: ReadModelCopy,
      userId: string,
      after: KeysetPosition | null,
      limit: number,
    ) => Promise<Row[]>;
    toItem: (row: Row) => Item;
    positionOf: (row: Row) => KeysetPosition;
  },
) {
  return async (req: Request, res: Response) => {
    const userId = pathIdOf(req);
    const page = listingPageOf(ctx, req, kind, userId);
    const [exists, rows] = await withRead(ctx, req, ['read-model'], ({ readModel }) =>
      Promise.all([
        userExists(readModel, userId),
        spec.fetch(readModel, userId, page.after, page.limit + 1),
      ]),
    );
    if (!exists) throw notFound(`No user has the id ${userId}`);
    const cursorAfter = (row: Row) => ctx.cursors.encode(kind, userId, spec.positionOf(row));
    sendPage(res, pageOf(rows, page.limit, spec.toItem, cursorAfter), pathOf(req), page.limit);
  };
}

/** `limit` and `cursor` of a request for `kind` of `userId`; 400 for anything else. */
export const listingPageOf = (ctx: QueryContext, req: Request, kind: ListingKind, userId: string) =>
  pageRequestOf(req.query, (cursor) => ctx.cursors.decode(kind, userId, cursor));

/** Where a page's `Link` points: the path as requested (relative, as GitHub's API does). */
export const pathOf = (req: Request): string => `${req.baseUrl}${req.path}`;

/** The OpenAPI request and 200 response of a listing of `{id}`. */
export const listingRequest = {
  params: idPathParams,
  query: pageQuerySchema,
  headers: minPositionHeader,
};

export const pageResponse = (description: string, schema: z.ZodType) => ({
  description,
  headers: pageHeaders,
  content: { 'application/json': { schema } },
});
