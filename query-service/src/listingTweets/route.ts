import { problemResponses, type OpenAPIRegistry } from '@tweeter/shared';
import type { Router } from 'express';
import type { QueryContext } from '../core/context.ts';
import { listingHandler, listingRequest, pageResponse } from '../core/listings.ts';
import { tweetPageSchema, tweetView } from '../core/views.ts';
import { tweetsBy } from '../readModel/tweets.repository.ts';

export function registerListingTweets(router: Router, ctx: QueryContext, api: OpenAPIRegistry) {
  router.get(
    '/users/:id/tweets',
    listingHandler(ctx, 'tweets', {
      fetch: tweetsBy,
      toItem: tweetView,
      positionOf: (row) => ({ at: row.created_at.getTime(), id: row.id }),
    }),
  );

  api.registerPath({
    method: 'get',
    path: '/users/{id}/tweets',
    tags: ['tweets'],
    summary: 'The user’s tweets, newest first (equal times: higher id first)',
    request: listingRequest,
    responses: {
      200: pageResponse('A page of tweets', tweetPageSchema),
      ...problemResponses(400, 404, 503),
    },
  });
}
