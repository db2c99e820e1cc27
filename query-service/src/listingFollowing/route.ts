import { problemResponses, type OpenAPIRegistry } from '@tweeter/shared';
import type { Router } from 'express';
import type { QueryContext } from '../core/context.ts';
import { listingHandler } from '../core/listings.ts';
import { pageHeaders, pageQuerySchema } from '../core/paging.ts';
import { idPathParams, minPositionHeader } from '../core/params.ts';
import { summaryView, userSummaryPageSchema } from '../core/views.ts';

export function registerListingFollowing(router: Router, ctx: QueryContext, api: OpenAPIRegistry) {
  router.get(
    '/users/:id/following',
    listingHandler(ctx, 'following', {
      fetch: (schema, userId, after, limit) =>
        ctx.readModel.following(schema, userId, after, limit),
      toItem: summaryView,
      positionOf: (row) => ({ at: row.followed_at.getTime(), id: row.id }),
    }),
  );

  api.registerPath({
    method: 'get',
    path: '/users/{id}/following',
    tags: ['follows'],
    summary: 'Whom the user follows, newest follow first',
    request: { params: idPathParams, query: pageQuerySchema, headers: minPositionHeader },
    responses: {
      200: {
        description: 'A page of users',
        headers: pageHeaders,
        content: { 'application/json': { schema: userSummaryPageSchema } },
      },
      ...problemResponses(400, 404, 503),
    },
  });
}
