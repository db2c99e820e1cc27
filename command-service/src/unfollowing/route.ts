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
import { unfollowUser } from './unfollowUser.ts';

export function registerUnfollowing(router: Router, ctx: CommandContext, api: OpenAPIRegistry) {
  router.delete('/users/:id/following/:targetId', ...ctx.authenticatedWrite, async (req, res) => {
    const { id, targetId } = parseOr400(followPathParams, req.params, 'path');
    const { position } = await unfollowUser(
      ctx,
      { followerId: id, followeeId: targetId, actorId: actorOf(res).user.id },
      { requestId: requestIdOf(req) },
    );
    setEventPosition(res, position);
    res.status(204).end();
  });

  api.registerPath({
    method: 'delete',
    path: '/users/{id}/following/{targetId}',
    tags: ['follows'],
    summary: 'Stop following a user',
    description:
      'Idempotent: unfollowing someone you do not follow (or a deleted user) answers 204 and appends nothing ' +
      '(no X-Event-Position then).',
    security: bearerSecurity,
    request: { params: followPathParams },
    responses: {
      204: { description: 'You do not follow the target', headers: eventPositionHeader },
      ...problemResponses(400, 401, 403, 404, 409, 429, 503),
    },
  });
}
