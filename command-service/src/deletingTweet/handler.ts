import { userStreamId, type Position } from '@tweeter/shared';
import type { Actor } from '../core/authentication.ts';
import { handleCommand, onOwnStream } from '../core/commandHandling.ts';
import type { CommandContext } from '../core/context.ts';
import { eventMetadata } from '../core/events.ts';
import { tweetStreamId } from '../core/streams.ts';
import {
  readTweetInAuthorStream,
  readTweetRecord,
  timeOfId,
  type ScanFloor,
} from '../core/tweetStreams.ts';
import { NotFound } from '../domain/errors.ts';
import { decideTweet, tweetFoldOf } from '../domain/tweets/tweet.ts';

/**
 * Appends TweetDeleted where the tweet lives (core/tweetStreams.ts): to the author's stream,
 * expecting the revision its scan read (so never after the author's UserDeleted), or for an older
 * tweet to the tweet's own stream.
 */
export async function deleteTweet(
  ctx: CommandContext,
  actor: Actor,
  tweetId: string,
  request: { requestId: string },
): Promise<{ position: Position | null }> {
  const actorId = actor.user.id;
  const command = { type: 'DeleteTweet' as const, data: { tweetId, actorId } };
  const metadata = eventMetadata({ ...request, actorId, now: ctx.clock() });
  const record = await readTweetRecord(ctx.eventStore, tweetId);
  if (record.layout === 'own-stream') {
    const { position } = await handleCommand(ctx, {
      name: 'delete-tweet',
      streamId: tweetStreamId(tweetId),
      source: { fold: tweetFoldOf(tweetId, 'active') },
      decide: (state) => decideTweet(command, state),
      metadata,
    });
    return { position };
  }
  if (record.layout === 'author-stream' && record.authorId !== actorId) {
    // Someone else's tweet: 403 while it lives (in its author's stream), 404 once it is deleted
    // or its author is. The decider refuses either way; nothing is appended.
    const author = { tweetId, authorId: record.authorId };
    const { state } = await readTweetInAuthorStream(ctx.eventStore, author);
    const lives = state.actor === 'active' && state.tweet.status === 'posted';
    decideTweet(command, {
      tweetId,
      actor: 'active',
      tweet: lives ? state.tweet : { status: 'none' },
    });
    throw new Error('DeleteTweet accepted a tweet of another author');
  }
  // The actor's own tweet (or one whose author record a crash cut off): its stream, newest first,
  // down to the tweet, or without a record down to the time in the tweet's id.
  let floor: ScanFloor = {};
  if (record.layout === 'none') {
    const madeAt = timeOfId(tweetId);
    if (madeAt === null) throw new NotFound(`Tweet ${tweetId} does not exist`);
    floor = { recordedAt: madeAt };
  }
  // In the actor's turn, with the budget of its own stream (its posts may be moving it on).
  const { position } = await ctx.actors.inTurn(actorId, () =>
    handleCommand(onOwnStream(ctx), {
      name: 'delete-tweet',
      streamId: userStreamId(actorId),
      source: {
        read: () => readTweetInAuthorStream(ctx.eventStore, { tweetId, authorId: actorId }, floor),
      },
      decide: (state) => decideTweet(command, state),
      metadata,
    }),
  );
  return { position };
}
