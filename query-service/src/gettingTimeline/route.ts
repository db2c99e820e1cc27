import { bearerSecurity, problemResponses, sendPage, type OpenAPIRegistry } from '@tweeter/shared';
import type { Router } from 'express';
import type { AuthorCache } from '../core/authorCache.ts';
import { withRead, type QueryContext } from '../core/context.ts';
import { listingPageOf, listingRequest, pageResponse, pathOf } from '../core/listings.ts';
import { pathIdOf } from '../core/params.ts';
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
      const page = listingPageOf(ctx, req, 'timeline', userId);
      const result = await withRead(
        ctx,
        req,
        ['read-model', 'timelines'],
        ({ copies, db, minPosition }) =>
          getTimeline({ ...ctx, db }, copies, userId, page.after, page.limit, minPosition),
        userId,
      );
      return { page, result };
    })();
    // The page is read while the token is checked against the event store (two waits in
    // parallel, not in a row); it is sent only once the token proved valid, and auth errors win.
    const [settledAuth, settledRead] = await Promise.allSettled([authenticated, reading]);
    if (settledAuth.status === 'rejected') throw settledAuth.reason;
    if (settledRead.status === 'rejected') throw settledRead.reason;
    const { page, result } = settledRead.value;
    // A home timeline is private: never to be kept by a shared cache.
    res.setHeader('Cache-Control', 'private, no-store');
    const nextCursor = result.next && ctx.cursors.encode('timeline', userId, result.next);
    sendPage(res, { data: result.data, nextCursor }, pathOf(req), page.limit);
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
    security: bearerSecurity,
    request: listingRequest,
    responses: {
      200: pageResponse('A page of tweets', tweetPageSchema),
      ...problemResponses(400, 401, 403, 503),
    },
  });
}
