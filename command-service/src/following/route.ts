import { bearerSecurity, problemResponses, type OpenAPIRegistry } from '@tweeter/shared';
import type { Router } from 'express';
import type { CommandContext } from '../core/context.ts';
import { commandRequestOf, eventPositionHeader, sendNoContent } from '../core/http.ts';
import { followEdgeOf, followPathParams } from '../core/paths.ts';
import { followUser } from './handler.ts';

export function registerFollowing(router: Router, ctx: CommandContext, api: OpenAPIRegistry) {
  router.put('/users/:id/following/:targetId', ...ctx.authenticatedWrite, async (req, res) => {
    sendNoContent(res, await followUser(ctx, followEdgeOf(req, res), commandRequestOf(req)));
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
