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
import { followPathParams } from '../core/paths.ts';
import { followUser } from './followUser.ts';

export function registerFollowing(router: Router, ctx: CommandContext, api: OpenAPIRegistry) {
  router.put('/users/:id/following/:targetId', ...ctx.authenticatedWrite, async (req, res) => {
    const { id, targetId } = parseOr400(followPathParams, req.params, 'path');
    const { position } = await followUser(
      ctx,
      { followerId: id, followeeId: targetId, actorId: actorOf(res).user.id },
      { requestId: requestIdOf(req) },
    );
    setEventPosition(res, position);
    res.status(204).end();
  });

  api.registerPath({
    method: 'put',
    path: '/users/{id}/following/{targetId}',
    tags: ['follows'],
    summary: 'Follow a user',
    description:
      'Idempotent: following someone you already follow answers 204 and appends nothing ' +
      '(no X-Event-Position then).',
    security: bearerSecurity,
    request: { params: followPathParams },
    responses: {
      204: { description: 'You follow the target', headers: eventPositionHeader },
      ...problemResponses(400, 401, 403, 404, 409, 429, 503),
    },
  });
}
