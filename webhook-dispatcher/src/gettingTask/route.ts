import { forbidden, notFound, problemResponses, type OpenAPIRegistry } from '@tweeter/shared';
import type { RequestHandler, Router } from 'express';
import { z } from 'zod';
import { bearerSecurity, callerOf } from '../core/authentication.ts';
import type { DispatcherContext } from '../core/deps.ts';
import { idField } from '../core/http.ts';
import { taskSchema, taskView } from '../core/tasks.ts';

export function registerGettingTask(
  router: Router,
  ctx: DispatcherContext,
  api: OpenAPIRegistry,
  authenticated: RequestHandler,
) {
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
}
