import {
  bearerSecurity,
  parseOr400,
  problemResponses,
  type OpenAPIRegistry,
} from '@tweeter/shared';
import type { Router } from 'express';
import { z } from 'zod';
import { actorOf } from '../core/authentication.ts';
import type { CommandContext } from '../core/context.ts';
import { commandRequestOf, eventPositionHeader, setEventPosition } from '../core/http.ts';
import { userPathParams } from '../core/paths.ts';
import { bioField, displayNameField } from '../core/textFields.ts';
import { userResponseSchema, userView } from '../core/userResponse.ts';
import { updateProfile } from './handler.ts';

export const updateProfileBody = z
  .strictObject({
    displayName: displayNameField.optional(),
    bio: bioField.optional(),
  })
  .meta({
    id: 'UpdateProfileRequest',
    description:
      'Fields left out keep their value. A request that changes nothing appends nothing.',
  });

export function registerUpdatingProfile(router: Router, ctx: CommandContext, api: OpenAPIRegistry) {
  router.patch('/users/:id', ...ctx.authenticatedWrite, async (req, res) => {
    const { id } = parseOr400(userPathParams, req.params, 'path');
    const input = parseOr400(updateProfileBody, req.body, 'body');
    const { user, position } = await updateProfile(
      ctx,
      { userId: id, actorId: actorOf(res).user.id, ...input },
      commandRequestOf(req),
    );
    setEventPosition(res, position);
    res.status(200).json(userView(user));
  });

  api.registerPath({
    method: 'patch',
    path: '/users/{id}',
    tags: ['users'],
    summary: 'Update your own profile',
    security: bearerSecurity,
    request: {
      params: userPathParams,
      body: { required: true, content: { 'application/json': { schema: updateProfileBody } } },
    },
    responses: {
      200: {
        description: 'The user after the update',
        headers: eventPositionHeader,
        content: { 'application/json': { schema: userResponseSchema } },
      },
      ...problemResponses(400, 401, 403, 404, 409, 413, 415, 429, 503),
    },
  });
}
