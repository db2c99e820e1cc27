import {
  bearerSecurity,
  conflict,
  idField,
  minPositionOf,
  notFound,
  parseOr400,
  Problem,
  problemResponses,
  timestampField,
  validationProblem,
  unavailable,
  type OpenAPIRegistry,
} from '@tweeter/shared';
import type { RequestHandler, Router } from 'express';
import { sql, type Kysely } from 'kysely';
import { z } from 'zod';
import { callerOf } from '../core/authentication.ts';
import type { DispatcherContext } from '../core/deps.ts';
import type { DispatcherDatabase } from '../core/tables.ts';
import { iso } from '../core/http.ts';
import { scheduleDigest } from '../core/jobs.ts';
import { requireWebhookTarget } from '../delivery/addressPolicy.ts';
import type { QueryApi } from '../runningDigest/queryApi.ts';

export const scheduleDigestBody = z
  .strictObject({
    username: z.string().regex(/^[A-Za-z0-9_]{1,15}$/, 'must be 1–15 of A–Z, a–z, 0–9 and _'),
    webhookUrl: z
      .string()
      .max(2048)
      .optional()
      .meta({ description: 'Where the digest goes; default WEBHOOK_URL' }),
  })
  .meta({ id: 'ScheduleDigestRequest' });

const scheduledSchema = z
  .object({
    id: idField,
    username: z.string(),
    status: z.literal('scheduled'),
    runAt: timestampField,
  })
  .meta({ id: 'ScheduledDigestTask' });

/** Serialises task creation so the cap on unfinished tasks holds under concurrent requests. */
const taskCreationLock = 'tweeter-webhook-dispatcher:tasks';

const unfinished = ['scheduled', 'running', 'retrying'] as const;

/** An unfinished task of the same username (409 names it); `db` or a transaction. */
function unfinishedTaskOf(db: Kysely<DispatcherDatabase>, username: string) {
  return db
    .selectFrom('webhooks.tasks')
    .select(['id', 'status'])
    .where(sql`lower(username)`, '=', username.toLowerCase())
    .where('status', 'in', unfinished)
    .executeTakeFirst();
}

/** How many tasks are unfinished (the cap counts them); `db` or a transaction. */
async function unfinishedTaskCount(db: Kysely<DispatcherDatabase>): Promise<number> {
  const { count } = await db
    .selectFrom('webhooks.tasks')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('status', 'in', unfinished)
    .executeTakeFirstOrThrow();
  return Number(count);
}

const taskConflict = (username: string, task: { id: string; status: string }) =>
  conflict(`A digest task for ${username} is not finished yet (${task.status})`, {
    task: { id: task.id, status: task.status },
  });

export function registerSchedulingDigest(
  router: Router,
  ctx: DispatcherContext,
  api: OpenAPIRegistry,
  authenticated: RequestHandler,
  queryApi: QueryApi,
) {
  const cap = ctx.config.RATE_LIMIT_MAX_SIMULTANEOUS_JOBS;
  // A task finishes no sooner than SCHEDULE_INTERVAL after it was made: the earliest a slot frees.
  const retryAfterSeconds = Math.max(1, Math.ceil(ctx.config.SCHEDULE_INTERVAL / 1000));
  const overCap = () =>
    new Problem('rate-limited', `Too many unfinished digest tasks (at most ${cap}); try later`, {
      retryAfter: retryAfterSeconds,
    });

  router.post('/tasks', authenticated, async (req, res) => {
    const caller = callerOf(res);
    const input = parseOr400(scheduleDigestBody, req.body, 'body');
    const minPosition = minPositionOf(req);
    if (input.webhookUrl === undefined && ctx.config.WEBHOOK_URL === undefined)
      throw validationProblem('No webhookUrl given and no default WEBHOOK_URL is configured', [
        { path: 'webhookUrl', message: 'required here' },
      ]);
    if (input.webhookUrl !== undefined)
      await requireWebhookTarget(
        input.webhookUrl,
        'webhookUrl',
        ctx.config.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
        ctx.resolveHost,
      );
    // Cheap refusals first, before asking the query service.
    const existing = await unfinishedTaskOf(ctx.db, input.username);
    if (existing) throw taskConflict(input.username, existing);
    if (cap !== -1 && (await unfinishedTaskCount(ctx.db)) >= cap) throw overCap();
    const user = await queryApi
      .userByUsername(input.username, minPosition)
      .catch((error: unknown) => {
        ctx.logger.warn({ err: error }, 'query service lookup failed');
        throw unavailable('The query service is not answering; try again shortly');
      });
    if (user === null) throw notFound(`No user ${input.username}`);
    const username = typeof user.username === 'string' ? user.username : input.username;

    const now = ctx.clock();
    const runAt = new Date(now.getTime() + ctx.config.SCHEDULE_INTERVAL);
    const id = ctx.ids();
    await ctx.db.transaction().execute(async (trx) => {
      await sql`SELECT pg_advisory_xact_lock(hashtextextended(${taskCreationLock}, 0))`.execute(
        trx,
      );
      // Checked again under the lock: two requests may have passed the checks above together.
      const again = await unfinishedTaskOf(trx, username);
      if (again) throw taskConflict(username, again);
      if (cap !== -1 && (await unfinishedTaskCount(trx)) >= cap) throw overCap();
      await trx
        .insertInto('webhooks.tasks')
        .values({
          id,
          owner_id: caller.id,
          username,
          webhook_url: input.webhookUrl ?? null,
          min_position: minPosition,
          status: 'scheduled',
          last_error: null,
          run_at: runAt,
          finished_at: null,
          created_at: now,
        })
        .execute();
      await scheduleDigest(trx, id, runAt);
    });
    res
      .status(202)
      .location(`/tasks/${id}`)
      .json({ id, username, status: 'scheduled', runAt: iso(runAt) });
  });

  api.registerPath({
    method: 'post',
    path: '/tasks',
    tags: ['tasks'],
    summary: "Schedule a digest of a user's profile, latest tweets and first followers",
    description:
      'After SCHEDULE_INTERVAL the digest is read from the query service and POSTed to webhookUrl ' +
      '(else WEBHOOK_URL) as {type: "user.digest", timestamp, data: {user, tweets, followers}}, ' +
      'signed with WEBHOOK_SECRET when set, retried like event deliveries. One unfinished task ' +
      'per username (409 names it); at most RATE_LIMIT_MAX_SIMULTANEOUS_JOBS unfinished tasks ' +
      '(429 with Retry-After).',
    security: bearerSecurity,
    request: {
      headers: z.object({
        'X-Min-Position': z
          .string()
          .optional()
          .meta({
            description:
              'Read-your-writes: the X-Event-Position of a command. The user lookup and the ' +
              "digest's reads wait until the query service has passed it.",
          }),
      }),
      body: { required: true, content: { 'application/json': { schema: scheduleDigestBody } } },
    },
    responses: {
      202: {
        description: 'Scheduled',
        headers: { Location: { description: '/tasks/{id}', schema: { type: 'string' } } },
        content: { 'application/json': { schema: scheduledSchema } },
      },
      ...problemResponses(400, 401, 404, 409, 413, 415, 429, 503),
    },
  });
}
