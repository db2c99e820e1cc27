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
import { userPathParams } from '../core/paths.ts';
import { deleteUser } from './handler.ts';

export function registerDeletingUser(router: Router, ctx: CommandContext, api: OpenAPIRegistry) {
  router.delete('/users/:id', ...ctx.authenticatedWrite, async (req, res) => {
    const { id } = parseOr400(userPathParams, req.params, 'path');
    const command = { userId: id, actorId: actorOf(res).user.id };
    sendNoContent(res, await deleteUser(ctx, command, commandRequestOf(req)));
  });

  api.registerPath({
    method: 'delete',
    path: '/users/{id}',
    tags: ['users'],
    summary: 'Delete your own account',
    description:
      'The token stops working at once; the profile, tweets and follow edges disappear from every ' +
      'listing and timeline; the username stays reserved for ever.',
    security: bearerSecurity,
    request: { params: userPathParams },
    responses: {
      204: { description: 'Deleted', headers: eventPositionHeader },
      ...problemResponses(400, 401, 403, 404, 409, 429, 503),
    },
  });
}
