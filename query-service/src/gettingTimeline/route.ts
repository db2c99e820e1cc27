import { problemResponses, type OpenAPIRegistry } from '@tweeter/shared';
import type { Router } from 'express';
import type { AuthorCache } from '../core/authorCache.ts';
import { prepareRead, type QueryContext } from '../core/context.ts';
import { pageHeaders, pageQuerySchema, pageRequestOf, sendPage } from '../core/paging.ts';
import { idPathParams, minPositionHeader, pathIdOf } from '../core/params.ts';
import { tweetPageSchema } from '../core/views.ts';
import { getTimeline } from './getTimeline.ts';

export function registerGettingTimeline(
  router: Router,
  ctx: QueryContext & { authors: AuthorCache },
  api: OpenAPIRegistry,
) {
  router.get('/users/:id/timeline', async (req, res) => {
    const userId = pathIdOf(req);
    const authenticated = ctx.tokens.authenticateAs(req, userId);
    // Nothing is read for a request whose token does not even name the owner (thrown above).
    const reading = (async () => {
      const page = pageRequestOf(req, ctx.cursors, 'timeline', userId);
      const { copies, minPosition } = await prepareRead(ctx, req, ['read-model', 'timelines']);
      return {
        page,
        result: await getTimeline(ctx, copies, userId, page.after, page.limit, minPosition),
      };
    })();
    // The page is read while the token is checked against the event store (two waits in
    // parallel, not in a row); it is sent only once the token proved valid, and auth errors win.
    const [settledAuth, settledRead] = await Promise.allSettled([authenticated, reading]);
    if (settledAuth.status === 'rejected') throw settledAuth.reason;
    if (settledRead.status === 'rejected') throw settledRead.reason;
    const { page, result } = settledRead.value;
    // A home timeline is private: never to be kept by a shared cache.
    res.setHeader('Cache-Control', 'private, no-store');
    sendPage(
      req,
      res,
      {
        data: result.data,
        nextCursor: result.next && ctx.cursors.encode('timeline', userId, result.next),
      },
      page.limit,
    );
  });

  api.registerPath({
    method: 'get',
    path: '/users/{id}/timeline',
    tags: ['tweets'],
    summary: 'The user’s home timeline (auth as the user)',
    description:
      'Every non-deleted tweet by the user and by the users they follow now, newest first (equal ' +
      'times: higher id first), across the whole history. Paging while new tweets arrive never ' +
      'repeats or skips a tweet that existed when the first page was read.',
    security: [{ bearer: [] }],
    request: { params: idPathParams, query: pageQuerySchema, headers: minPositionHeader },
    responses: {
      200: {
        description: 'A page of tweets',
        headers: pageHeaders,
        content: { 'application/json': { schema: tweetPageSchema } },
      },
      ...problemResponses(400, 401, 403, 503),
    },
  });
}
