import { problemResponses, type OpenAPIRegistry } from '@tweeter/shared';
import type { Router } from 'express';
import type { QueryContext } from '../core/context.ts';
import { listingHandler, listingRequest, pageResponse } from '../core/listings.ts';
import { summaryView, userSummaryPageSchema } from '../core/views.ts';
import { followListing, type FollowSide } from '../readModel/follows.repository.ts';

const summaries: Record<FollowSide, string> = {
  followers: 'Who follows the user, newest follow first',
  following: 'Whom the user follows, newest follow first',
};

/** `GET /users/{id}/followers` and `GET /users/{id}/following`: the two sides of the follows. */
export function registerListingFollows(router: Router, ctx: QueryContext, api: OpenAPIRegistry) {
  for (const side of ['followers', 'following'] as const) {
    router.get(
      `/users/:id/${side}`,
      listingHandler(ctx, side, {
        fetch: (db, userId, after, limit) => followListing(db, side, userId, after, limit),
        toItem: summaryView,
        positionOf: (row) => ({ at: row.followed_at.getTime(), id: row.id }),
      }),
    );

    api.registerPath({
      method: 'get',
      path: `/users/{id}/${side}`,
      tags: ['follows'],
      summary: summaries[side],
      request: listingRequest,
      responses: {
        200: pageResponse('A page of users', userSummaryPageSchema),
        ...problemResponses(400, 404, 503),
      },
    });
  }
}
