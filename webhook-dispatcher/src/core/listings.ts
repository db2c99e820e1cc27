import {
  idPosition,
  pageOf,
  pageRequestOf,
  setNextLink,
  SignedCursors,
  type PageRequest,
} from '@tweeter/shared';
import type { Request, Response } from 'express';
import type { DispatcherContext } from './deps.ts';

/**
 * The dispatcher's listings, newest id first (UUIDv7), paged with the kit's signed cursors
 * (shared/src/http/paging.ts, which says why signed) over the last id shown, bound to the listing
 * and its subject: the owner for `webhooks`, the subscription for `deliveries`. The key is
 * generated once and kept in PostgreSQL (`service_secrets`), so every instance and restart
 * accepts them.
 */
export const dispatcherListings = ['webhooks', 'deliveries'] as const;

export class DispatcherCursors extends SignedCursors<(typeof dispatcherListings)[number], string> {
  constructor(key: Buffer) {
    super(key, dispatcherListings, idPosition);
  }
}

/** One listing: which, whose, and its path (the `Link` of the next page points there). */
export interface Listing {
  kind: (typeof dispatcherListings)[number];
  subjectId: string;
  path: string;
}

/**
 * `limit` and `cursor` (the id the page continues below); 400 for anything else, any other query
 * parameter included (as the dispatcher's listings always have).
 */
export const listingRequestOf = (
  ctx: DispatcherContext,
  req: Request,
  listing: Listing,
): PageRequest<string> =>
  pageRequestOf(
    req.query,
    (cursor) => ctx.cursors.decode(listing.kind, listing.subjectId, cursor),
    {
      only: true,
    },
  );

/** Sends the page of `limit` from `limit + 1` rows, with its `Link` when there is a next one. */
export function sendListing<Row extends { id: string }, Item>(
  ctx: DispatcherContext,
  res: Response,
  listing: Listing,
  rows: readonly Row[],
  limit: number,
  view: (row: Row) => Item,
): void {
  const page = pageOf(rows, limit, view, (row) =>
    ctx.cursors.encode(listing.kind, listing.subjectId, row.id),
  );
  setNextLink(res, listing.path, limit, page.nextCursor);
  res.json(page);
}
