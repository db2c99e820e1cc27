import { notFound, parseOr400, problemResponses, type OpenAPIRegistry } from '@tweeter/shared';
import type { Router } from 'express';
import { withRead, type QueryContext } from '../core/context.ts';
import { idPathParams, minPositionHeader, pathIdOf, usernamePathParams } from '../core/params.ts';
import { profileView, userProfileSchema } from '../core/views.ts';
import { userById, userByUsername } from '../readModel/users.repository.ts';

export function registerGettingProfile(router: Router, ctx: QueryContext, api: OpenAPIRegistry) {
  router.get('/users/by-username/:username', async (req, res) => {
    const { username } = parseOr400(usernamePathParams, req.params, 'path');
    const user = await withRead(ctx, req, ['read-model'], ({ readModel }) =>
      userByUsername(readModel, username),
    );
    if (!user) throw notFound(`No user is named ${username}`);
    res.json(profileView(user));
  });

  router.get('/users/:id', async (req, res) => {
    const id = pathIdOf(req);
    const user = await withRead(ctx, req, ['read-model'], ({ readModel }) =>
      userById(readModel, id),
    );
    if (!user) throw notFound(`No user has the id ${id}`);
    res.json(profileView(user));
  });

  const responses = {
    200: {
      description: 'The user with its counters',
      content: { 'application/json': { schema: userProfileSchema } },
    },
    ...problemResponses(400, 404, 503),
  };
  api.registerPath({
    method: 'get',
    path: '/users/{id}',
    tags: ['users'],
    summary: 'A user’s profile',
    request: { params: idPathParams, headers: minPositionHeader },
    responses,
  });
  api.registerPath({
    method: 'get',
    path: '/users/by-username/{username}',
    tags: ['users'],
    summary: 'A user’s profile by username (case-insensitive)',
    request: { params: usernamePathParams, headers: minPositionHeader },
    responses,
  });
}
