import type { Position } from '@tweeter/shared';
import type { Actor } from '../core/authentication.ts';
import { handleCommand } from '../core/commandHandling.ts';
import type { CommandContext } from '../core/context.ts';
import { eventMetadata } from '../core/events.ts';
import { claimIdempotencyKey, requestHash } from '../core/idempotency.ts';
import { tweetStreamId } from '../core/streams.ts';
import { decideTweet, tweetFoldFor } from '../domain/tweets/tweet.ts';

export interface PostedTweet {
  tweet: { id: string; authorId: string; text: string; createdAt: string };
  position: Position;
  replayed: boolean;
}

const route = 'POST /tweets';

/**
 * The hot path: the author was read to authenticate, the tweet's stream is new, so a post is one
 * append (two with an Idempotency-Key) and no further read.
 */
export async function postTweet(
  ctx: CommandContext,
  actor: Actor,
  input: { text: string },
  request: { requestId: string; idempotencyKey?: string | undefined },
): Promise<PostedTweet> {
  const now = ctx.clock();
  const authorId = actor.user.id;
  const metadata = eventMetadata({ requestId: request.requestId, actorId: authorId, now });
  let plan = { tweetId: ctx.ids(), createdAt: now.toISOString() };
  let eventId = (_name: string) => ctx.ids();
  let replayed = false;
  if (request.idempotencyKey !== undefined) {
    // Claiming first is safe here, unlike in sign-up: every refusal (400, 401, 429) came before,
    // and nothing after the claim can refuse a fresh tweet of an authenticated author.
    const claim = await claimIdempotencyKey(
      ctx.eventStore,
      {
        caller: authorId,
        route,
        key: request.idempotencyKey,
        requestHash: requestHash(input),
        plan,
      },
      metadata,
      ctx.ids(),
    );
    replayed = claim.plan.tweetId !== plan.tweetId;
    plan = claim.plan;
    eventId = claim.eventId;
  }
  const tweet = { id: plan.tweetId, authorId, text: input.text, createdAt: plan.createdAt };
  const fold = tweetFoldFor(actor.user);
  const { position } = await handleCommand(ctx, {
    name: 'post-tweet',
    streamId: tweetStreamId(tweet.id),
    source: { fold },
    // A brand-new id needs no read; only a retry (which cannot happen short of an id clash) looks.
    presumeNew: fold.initialState,
    decide: (state) =>
      decideTweet(
        {
          type: 'PostTweet',
          data: { tweetId: tweet.id, authorId, text: tweet.text, createdAt: tweet.createdAt },
        },
        state,
      ),
    metadata,
    eventId: () => eventId('TweetPosted'),
  });
  if (position === null) throw new Error('PostTweet decided to append nothing');
  return { tweet, position, replayed };
}
