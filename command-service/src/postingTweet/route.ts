import {
  bearerSecurity,
  idField,
  parseOr400,
  problemResponses,
  timestampField,
  type OpenAPIRegistry,
} from '@tweeter/shared';
import type { Router } from 'express';
import { z } from 'zod';
import { actorOf } from '../core/authentication.ts';
import type { CommandContext } from '../core/context.ts';
import {
  eventPositionHeader,
  locationHeader,
  commandRequestOf,
  setEventPosition,
} from '../core/http.ts';
import { idempotencyHeaders, idempotencyKeyOf } from '../core/idempotency.ts';
import { tweetTextField } from '../core/textFields.ts';
import { postTweet } from './handler.ts';

export const postTweetBody = z
  .strictObject({ text: tweetTextField })
  .meta({ id: 'PostTweetRequest' });

export const acceptedTweetSchema = z
  .object({
    id: idField,
    authorId: idField,
    text: z.string().meta({ description: 'The text as stored: NFC-normalised' }),
    createdAt: timestampField,
  })
  .meta({ id: 'AcceptedTweet' });

export function registerPostingTweet(router: Router, ctx: CommandContext, api: OpenAPIRegistry) {
  router.post('/tweets', ...ctx.authenticatedPost, async (req, res) => {
    const idempotencyKey = idempotencyKeyOf(req);
    const input = parseOr400(postTweetBody, req.body, 'body');
    const posted = await postTweet(ctx, actorOf(res), input, {
      ...commandRequestOf(req),
      idempotencyKey,
    });
    setEventPosition(res, posted.position, posted.replayed)
      .status(202)
      .location(`/tweets/${posted.tweet.id}`)
      .json(posted.tweet);
  });

  api.registerPath({
    method: 'post',
    path: '/tweets',
    tags: ['tweets'],
    summary: 'Post a tweet',
    description:
      '202: the tweet is in the log; it shows up in listings and timelines once the projections ' +
      'have passed X-Event-Position (send it as X-Min-Position to the query service).',
    security: bearerSecurity,
    request: {
      headers: idempotencyHeaders,
      body: { required: true, content: { 'application/json': { schema: postTweetBody } } },
    },
    responses: {
      202: {
        description: 'Accepted',
        headers: { ...locationHeader, ...eventPositionHeader },
        content: { 'application/json': { schema: acceptedTweetSchema } },
      },
      ...problemResponses(400, 401, 409, 413, 415, 429, 503),
    },
  });
}
