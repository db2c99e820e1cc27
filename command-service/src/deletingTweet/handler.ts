import type { Position } from '@tweeter/shared';
import type { Actor } from '../core/authentication.ts';
import { handleCommand } from '../core/commandHandling.ts';
import type { CommandContext } from '../core/context.ts';
import { eventMetadata } from '../core/events.ts';
import { tweetStreamId } from '../core/streams.ts';
import { decideTweet, tweetFoldFor } from '../domain/tweets/tweet.ts';

export async function deleteTweet(
  ctx: CommandContext,
  actor: Actor,
  tweetId: string,
  request: { requestId: string },
): Promise<{ position: Position | null }> {
  const actorId = actor.user.id;
  const { position } = await handleCommand(ctx, {
    name: 'delete-tweet',
    streamId: tweetStreamId(tweetId),
    source: { fold: tweetFoldFor(actor.user) },
    decide: (state) => decideTweet({ type: 'DeleteTweet', data: { tweetId, actorId } }, state),
    metadata: eventMetadata({ ...request, actorId, now: ctx.clock() }),
  });
  return { position };
}
