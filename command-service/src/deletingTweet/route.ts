import {
  bearerSecurity,
  parseOr400,
  problemResponses,
  type OpenAPIRegistry,
} from '@tweeter/shared';
import type { Router } from 'express';
import { actorOf } from '../core/authentication.ts';
import type { CommandContext } from '../core/context.ts';
import { commandRequestOf, eventPositionHeader, sendNoContent } from '../core/http.ts';
import { tweetPathParams } from '../core/paths.ts';
import { deleteTweet } from './handler.ts';

export function registerDeletingTweet(router: Router, ctx: CommandContext, api: OpenAPIRegistry) {
  router.delete('/tweets/:id', ...ctx.authenticatedWrite, async (req, res) => {
    const { id } = parseOr400(tweetPathParams, req.params, 'path');
    sendNoContent(res, await deleteTweet(ctx, actorOf(res), id, commandRequestOf(req)));
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
