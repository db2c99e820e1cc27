import { bearerSecurity, forbidden, idField, notFound, problemResponses } from '@tweeter/shared';
import { z } from 'zod';
import { callerOf } from '../core/authentication.ts';
import type { RegisterRoutes } from '../core/deps.ts';
import { taskSchema, taskView } from '../core/tasks.ts';

export const registerGettingTask: RegisterRoutes = (router, ctx, api, authenticated) => {
  router.get('/tasks/:id', authenticated, async (req, res) => {
    const id = req.params.id as string;
    const task = idField.safeParse(id).success
      ? await ctx.db
          .selectFrom('webhooks.tasks')
          .selectAll()
          .where('id', '=', id)
          .executeTakeFirst()
      : undefined;
    if (!task) throw notFound(`No task ${id}`);
    if (task.owner_id !== callerOf(res).id) throw forbidden('This task belongs to another user');
    res.json(taskView(task));
  });

  api.registerPath({
    method: 'get',
    path: '/tasks/{id}',
    tags: ['tasks'],
    summary: 'A digest task (its creator only)',
    security: bearerSecurity,
    request: { params: z.object({ id: z.string() }) },
    responses: {
      200: { description: 'The task', content: { 'application/json': { schema: taskSchema } } },
      ...problemResponses(401, 403, 404, 503),
    },
  });
};
