import { bearerSecurity, problemResponses, type OpenAPIRegistry } from '@tweeter/shared';
import type { Router } from 'express';
import type { CommandContext } from '../core/context.ts';
import { commandRequestOf, eventPositionHeader, sendNoContent } from '../core/http.ts';
import { followEdgeOf, followPathParams } from '../core/paths.ts';
import { unfollowUser } from './handler.ts';

export function registerUnfollowing(router: Router, ctx: CommandContext, api: OpenAPIRegistry) {
  router.delete('/users/:id/following/:targetId', ...ctx.authenticatedWrite, async (req, res) => {
    sendNoContent(res, await unfollowUser(ctx, followEdgeOf(req, res), commandRequestOf(req)));
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
