import { parseOr400, problemResponses, type OpenAPIRegistry } from '@tweeter/shared';
import type { Router } from 'express';
import { actorOf } from '../core/authentication.ts';
import type { CommandContext } from '../core/context.ts';
import {
  bearerSecurity,
  eventPositionHeader,
  requestIdOf,
  setEventPosition,
} from '../core/http.ts';
import { tweetPathParams } from '../core/paths.ts';
import { deleteTweet } from './deleteTweet.ts';

export function registerDeletingTweet(router: Router, ctx: CommandContext, api: OpenAPIRegistry) {
  router.delete('/tweets/:id', ...ctx.authenticatedWrite, async (req, res) => {
    const { id } = parseOr400(tweetPathParams, req.params, 'path');
    const { position } = await deleteTweet(ctx, actorOf(res), id, { requestId: requestIdOf(req) });
    setEventPosition(res, position);
    res.status(204).end();
  });

  api.registerPath({
    method: 'delete',
    path: '/tweets/{id}',
    tags: ['tweets'],
    summary: 'Delete one of your tweets',
    description: 'Only the author may delete a tweet. Deleting it again answers 404.',
    security: bearerSecurity,
    request: { params: tweetPathParams },
    responses: {
      204: { description: 'Deleted', headers: eventPositionHeader },
      ...problemResponses(400, 401, 403, 404, 409, 429, 503),
    },
  });
}
