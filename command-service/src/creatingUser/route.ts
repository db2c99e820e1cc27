import { parseOr400, problemResponses, type OpenAPIRegistry } from '@tweeter/shared';
import type { Router } from 'express';
import { z } from 'zod';
import type { CommandContext } from '../core/context.ts';
import {
  eventPositionHeader,
  locationHeader,
  commandRequestOf,
  setEventPosition,
} from '../core/http.ts';
import { idempotencyHeaders, idempotencyKeyOf } from '../core/idempotency.ts';
import { bioField, displayNameField, usernameField } from '../core/textFields.ts';
import { userResponseSchema, userView } from '../core/userResponse.ts';
import { createUser } from './handler.ts';

export const createUserBody = z
  .strictObject({
    username: usernameField,
    displayName: displayNameField.optional().meta({ description: 'Defaults to the username' }),
    bio: bioField.optional().meta({ description: 'Defaults to ""' }),
  })
  .meta({ id: 'CreateUserRequest' });

export const createdUserSchema = userResponseSchema
  .extend({
    token: z.string().meta({
      description:
        'Bearer token for every authenticated request. Shown only here; only its hash is stored. ' +
        'Valid from the very next request until the user is deleted.',
      example: 'mt_01936b2a7c3e7d1a9f4e2b8c5d6e7f80_3q2-7wE…',
    }),
  })
  .meta({ id: 'CreatedUser' });

export function registerCreatingUser(router: Router, ctx: CommandContext, api: OpenAPIRegistry) {
  // The limit first: every attempt counts, and one over it is refused before anything is decided.
  router.post('/users', ctx.signUpRateLimit, async (req, res) => {
    const idempotencyKey = idempotencyKeyOf(req);
    const input = parseOr400(createUserBody, req.body, 'body');
    const created = await createUser(ctx, input, { ...commandRequestOf(req), idempotencyKey });
    setEventPosition(res, created.position, created.replayed)
      .status(201)
      .location(`/users/${created.user.id}`)
      .setHeader('Cache-Control', 'no-store')
      .json({ ...userView(created.user), token: created.token });
  });

  api.registerPath({
    method: 'post',
    path: '/users',
    tags: ['users'],
    summary: 'Sign up: create a user and its API token',
    description:
      'At most RATE_LIMIT_SIGNUPS_PER_HOUR sign-ups per client address and hour, refused ones ' +
      'included; past it 429 with Retry-After, and nothing is appended.',
    request: {
      headers: idempotencyHeaders,
      body: { required: true, content: { 'application/json': { schema: createUserBody } } },
    },
    responses: {
      201: {
        description: 'Created. The token is shown only in this response.',
        headers: { ...locationHeader, ...eventPositionHeader },
        content: { 'application/json': { schema: createdUserSchema } },
      },
      ...problemResponses(400, 409, 413, 415, 429, 503),
    },
  });
}
