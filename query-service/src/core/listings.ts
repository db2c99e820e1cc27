import { notFound } from '@tweeter/shared';
import type { Request, Response } from 'express';
import { prepareRead, type QueryContext } from './context.ts';
import type { KeysetPosition, ListingKind } from './cursor.ts';
import { pageOf, pageRequestOf, sendPage } from './paging.ts';
import { pathIdOf } from './params.ts';

/**
 * A keyset-paginated listing of one user's things from the read model: validate, wait for
 * X-Min-Position, fetch `limit + 1` rows below the cursor, answer 404 when the user does not exist.
 */
export function listingHandler<Row, Item>(
  ctx: QueryContext,
  kind: ListingKind,
  spec: {
    fetch: (
      schema: string,
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
    const page = pageRequestOf(req, ctx.cursors, kind, userId);
    const { copies } = await prepareRead(ctx, req, ['read-model']);
    const [exists, rows] = await Promise.all([
      ctx.readModel.userExists(copies.readModel, userId),
      spec.fetch(copies.readModel, userId, page.after, page.limit + 1),
    ]);
    if (!exists) throw notFound(`No user has the id ${userId}`);
    sendPage(
      req,
      res,
      pageOf(rows, page.limit, spec.toItem, spec.positionOf, (p) =>
        ctx.cursors.encode(kind, userId, p),
      ),
      page.limit,
    );
  };
}
