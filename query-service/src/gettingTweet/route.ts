import { notFound, problemResponses, type OpenAPIRegistry } from '@tweeter/shared';
import type { Router } from 'express';
import { withRead, type QueryContext } from '../core/context.ts';
import { idPathParams, minPositionHeader, pathIdOf } from '../core/params.ts';
import { tweetSchema, tweetView } from '../core/views.ts';
import { tweetById } from '../readModel/tweets.repository.ts';

export function registerGettingTweet(router: Router, ctx: QueryContext, api: OpenAPIRegistry) {
  router.get('/tweets/:id', async (req, res) => {
    const id = pathIdOf(req);
    const tweet = await withRead(ctx, req, ['read-model'], ({ readModel }) =>
      tweetById(readModel, id),
    );
    if (!tweet) throw notFound(`No tweet has the id ${id}`);
    res.json(tweetView(tweet));
  });

  api.registerPath({
    method: 'get',
    path: '/tweets/{id}',
    tags: ['tweets'],
    summary: 'One tweet with its author',
    request: { params: idPathParams, headers: minPositionHeader },
    responses: {
      200: { description: 'The tweet', content: { 'application/json': { schema: tweetSchema } } },
      ...problemResponses(400, 404, 503),
    },
  });
}
