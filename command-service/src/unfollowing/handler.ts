import type { Position } from '@tweeter/shared';
import { handleCommand } from '../core/commandHandling.ts';
import type { CommandContext } from '../core/context.ts';
import { eventMetadata } from '../core/events.ts';
import { followStreamId } from '../core/streams.ts';
import { decideFollow, followFold, type FollowEdge } from '../domain/follows/follow.ts';

/** Appends Unfollowed to the edge's stream, folded with the followee's (exists). */
export async function unfollowUser(
  ctx: CommandContext,
  edge: FollowEdge,
  request: { requestId: string },
): Promise<{ position: Position | null }> {
  const { position } = await handleCommand(ctx, {
    name: 'unfollow',
    streamId: followStreamId(edge.followerId, edge.followeeId),
    source: { fold: followFold, alsoReadUsers: [edge.followeeId] },
    decide: (state) => decideFollow({ type: 'Unfollow', data: edge }, state),
    metadata: eventMetadata({ ...request, actorId: edge.actorId, now: ctx.clock() }),
  });
  return { position };
}
