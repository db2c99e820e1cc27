import {
  bearerSecurity,
  isPosition,
  problemResponses,
  unavailable,
  validationProblem,
  type OpenAPIRegistry,
} from '@tweeter/shared';
import type { Request, Router } from 'express';
import { z } from 'zod';
import type { AuthorCache } from '../core/authorCache.ts';
import type { QueryContext } from '../core/context.ts';
import { idPathParams, pathIdOf } from '../core/params.ts';
import { resolveTweets } from '../gettingTimeline/getTimeline.ts';
import { HomeStream, type HomeStreamOptions } from './homeStream.ts';
import type { TimelineStreams } from './timelineStreams.ts';

/** Last-Event-ID (a log position), validated; null for a stream that starts now. */
function lastEventIdOf(req: Request): string | null {
  const value = req.headers['last-event-id'];
  if (value === undefined || value === '') return null;
  if (typeof value !== 'string' || !isPosition(value.trim()))
    throw validationProblem('The Last-Event-ID header is invalid', [
      { path: 'Last-Event-ID', message: 'must be the id of an event of this stream' },
    ]);
  return value.trim();
}

export function registerStreamingTimeline(
  router: Router,
  ctx: QueryContext & {
    authors: AuthorCache;
    streams: TimelineStreams;
    streaming: HomeStreamOptions;
  },
  api: OpenAPIRegistry,
) {
  router.get('/users/:id/timeline/stream', async (req, res) => {
    const userId = pathIdOf(req);
    const resumeFrom = lastEventIdOf(req);
    await ctx.tokens.authenticateAs(req, userId);
    // The stream is Redis's: without it, a 503 now rather than a stream that stays silent.
    if (ctx.redis.status !== 'ready')
      throw unavailable('The home timelines store is unavailable; reconnect in a moment', 2);
    await new HomeStream(
      ctx,
      ctx.streams,
      ctx.streaming,
      req,
      res,
      userId,
      resumeFrom,
      (copies, ids) =>
        ctx.source.read((server) => resolveTweets({ ...ctx, db: server.db }, copies, ids)),
    ).run();
  });

  api.registerPath({
    method: 'get',
    path: '/users/{id}/timeline/stream',
    tags: ['tweets'],
    summary: 'Live changes of the user’s home timeline (auth as the user), as server-sent events',
    description:
      '`text/event-stream`. `event: update`: a tweet arrived in the home timeline (`data`: the ' +
      'tweet as the timeline returns it). `event: delete`: tweets left it (`data`: ' +
      '`{"ids": [...]}`; a deletion, an unfollow, an author’s deletion). `event: resync`: read the ' +
      'timeline again (the timelines were flushed or rebuilt, or the client was away longer than ' +
      'a minute or for more changes than the stream keeps). Every event’s `id` is a log position: reconnect with `Last-Event-ID` ' +
      'and every change after it follows, in order, none twice. A comment every 15 s keeps the ' +
      'connection open. A follow brings older tweets into the timeline without `update`s: read ' +
      'the timeline again after one. Tweets of authors above FANOUT_MAX_FOLLOWERS followers ' +
      '(merged at read time) are not streamed to their followers.',
    security: bearerSecurity,
    request: {
      params: idPathParams,
      headers: z.object({
        'Last-Event-ID': z
          .string()
          .optional()
          .meta({ description: 'The `id` of the last event received: resume after it' }),
      }),
    },
    responses: {
      200: {
        description: 'The stream of changes',
        content: { 'text/event-stream': { schema: z.string() } },
      },
      ...problemResponses(400, 401, 403, 503),
    },
  });
}
