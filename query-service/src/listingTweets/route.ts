import { problemResponses, type OpenAPIRegistry } from '@tweeter/shared';
import type { Router } from 'express';
import type { QueryContext } from '../core/context.ts';
import { listingHandler } from '../core/listings.ts';
import { pageHeaders, pageQuerySchema } from '../core/paging.ts';
import { idPathParams, minPositionHeader } from '../core/params.ts';
import { tweetPageSchema, tweetView } from '../core/views.ts';

export function registerListingTweets(router: Router, ctx: QueryContext, api: OpenAPIRegistry) {
  router.get(
    '/users/:id/tweets',
    listingHandler(ctx, 'tweets', {
      fetch: (schema, userId, after, limit) => ctx.readModel.tweetsBy(schema, userId, after, limit),
      toItem: tweetView,
      positionOf: (row) => ({ at: row.created_at.getTime(), id: row.id }),
    }),
  );

  api.registerPath({
    method: 'get',
    path: '/users/{id}/tweets',
    tags: ['tweets'],
    summary: 'The user’s tweets, newest first (equal times: higher id first)',
    request: { params: idPathParams, query: pageQuerySchema, headers: minPositionHeader },
    responses: {
      200: {
        description: 'A page of tweets',
        headers: pageHeaders,
        content: { 'application/json': { schema: tweetPageSchema } },
      },
      ...problemResponses(400, 404, 503),
    },
  });
}
