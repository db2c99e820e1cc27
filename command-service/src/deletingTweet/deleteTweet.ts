import type { Position } from '@tweeter/shared';
import type { Actor } from '../core/authentication.ts';
import { decideOnStream, retryOnConflict } from '../core/commandHandling.ts';
import { retryOptions, type CommandContext } from '../core/context.ts';
import { eventMetadata } from '../core/events.ts';
import { tweetStream } from '../core/streams.ts';
import { decideTweet, evolveTweet, initialTweetState, tweetEventSchemas } from '../tweets/tweet.ts';

export async function deleteTweet(
  ctx: CommandContext,
  actor: Actor,
  tweetId: string,
  request: { requestId: string },
): Promise<{ position: Position | null }> {
  const metadata = eventMetadata({
    requestId: request.requestId,
    actorId: actor.user.id,
    now: ctx.clock(),
  });
  const fold = {
    schemas: tweetEventSchemas,
    evolve: evolveTweet,
    // The actor comes from authentication, not from the tweet's stream.
    initialState: { ...initialTweetState, actor: { status: 'active' as const, user: actor.user } },
  };
  const { position } = await retryOnConflict(retryOptions(ctx, 'delete-tweet'), () =>
    decideOnStream(
      ctx.eventStore,
      tweetStream(tweetId),
      fold,
      (state) =>
        decideTweet({ type: 'DeleteTweet', data: { tweetId, actorId: actor.user.id } }, state),
      metadata,
    ),
  );
  return { position };
}
