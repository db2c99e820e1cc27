import { userStreamId, type Position } from '@tweeter/shared';
import type { Actor } from '../core/authentication.ts';
import { handleCommand, onOwnStream, type StreamState } from '../core/commandHandling.ts';
import type { CommandContext } from '../core/context.ts';
import { eventMetadata } from '../core/events.ts';
import { claimIdempotencyKey, requestHash } from '../core/idempotency.ts';
import { readTweetInAuthorStream, recordTweetAuthor } from '../core/tweetStreams.ts';
import { Unauthenticated } from '../domain/errors.ts';
import { decideTweet, type TweetState } from '../domain/tweets/tweet.ts';

export interface PostedTweet {
  tweet: { id: string; authorId: string; text: string; createdAt: string };
  position: Position;
  replayed: boolean;
}

const route = 'POST /tweets';

/**
 * Appends TweetPosted to the author's stream, expecting the revision of the author it was decided
 * on, so that no tweet ever follows its author's UserDeleted (see core/tweetStreams.ts). The hot
 * path: the author's state is cached (core/actors.ts), so a post is two appends (the tweet, then
 * its author record) and no read; only a stream that moved on since is read, newest first.
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
  /** For a keyed request: the key's record, which anything its plan appended comes after. */
  let claimedAt: Position | null = null;
  if (request.idempotencyKey !== undefined) {
    // The claim is appended before the post, so a refusal must come first: authentication
    // checked a cached state, which may predate the author's deletion; this reads what changed.
    if ((await ctx.actors.current(authorId)).status !== 'active')
      throw new Unauthenticated('The acting user does not exist');
    // Claiming first is safe here, unlike in sign-up: every refusal (400, 401, 429) came before,
    // and nothing after the claim can refuse a fresh tweet of an active author.
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
    claimedAt = claim.recordedAt;
  }
  const tweet = { id: plan.tweetId, authorId, text: input.text, createdAt: plan.createdAt };
  const ids = { tweetId: tweet.id, authorId };
  let postedBefore: Position | null = null;
  const read = async (): Promise<StreamState<TweetState>> => {
    // A keyed request may repeat one that posted already; a fresh id is in no stream.
    const floor = claimedAt === null ? { headOnly: true } : { position: claimedAt };
    const { postedAt, ...state } = await readTweetInAuthorStream(ctx.eventStore, ids, floor);
    postedBefore = postedAt;
    return state;
  };
  // One post of an author at a time in this process: its own posts do not fail each other.
  const decided = await ctx.actors.inTurn(authorId, async () => {
    const known = await ctx.actors.cached(authorId);
    try {
      // The author's own requests are the only contenders for its stream (posts through other
      // instances, its deletion), and a retry reads one event: more tries than elsewhere.
      const result = await handleCommand(onOwnStream(ctx), {
        name: 'post-tweet',
        streamId: userStreamId(authorId),
        source: { read },
        // A fresh tweet of a cached author needs no read. A keyed request looks first: a redone
        // append at a newer revision would post the tweet twice.
        ...(known.status === 'active' && claimedAt === null
          ? {
              presumed: {
                state: { tweetId: tweet.id, tweet: { status: 'none' }, actor: 'active' },
                expectedRevision: known.revision,
              },
            }
          : {}),
        decide: (state) =>
          // A repeat of a post that landed (and may have been deleted since) answers as it did.
          claimedAt !== null && state.tweet.status !== 'none'
            ? []
            : decideTweet(
                {
                  type: 'PostTweet',
                  data: {
                    tweetId: tweet.id,
                    authorId,
                    text: tweet.text,
                    createdAt: tweet.createdAt,
                  },
                },
                state,
              ),
        metadata,
        eventId: () => eventId('TweetPosted'),
      });
      if (result.nextRevision !== null) ctx.actors.advance(authorId, result.nextRevision);
      return result;
    } catch (error) {
      // Refused (the author was deleted) or unknown (a timeout): read the author next time.
      ctx.actors.forget(authorId);
      throw error;
    }
  });
  const position = decided.position ?? postedBefore;
  if (position === null) throw new Error('PostTweet decided to append nothing');
  try {
    await recordTweetAuthor(ctx.eventStore, ids, metadata, eventId('TweetAuthorRecorded'));
  } catch (error) {
    // The tweet is accepted without it: a delete by its author then finds it by a longer scan.
    ctx.logger.warn({ err: error, tweetId: tweet.id }, 'could not record the author of a tweet');
  }
  return { tweet, position, replayed: replayed || decided.position === null };
}
