import type { Position } from '@tweeter/shared';
import { readStreamState, retryOnConflict } from '../core/commandHandling.ts';
import { retryOptions, type CommandContext } from '../core/context.ts';
import { eventMetadata, toNewEvents } from '../core/events.ts';
import { followStream, userStream } from '../core/streams.ts';
import { userFold } from '../users/userFold.ts';
import { decideFollow, evolveFollow, followEventSchemas, type FollowCommand } from './follow.ts';

/**
 * Follow and unfollow share their shape: read the followee's stream (exists, not deleted) and the
 * edge's stream, decide, append to the edge at the revision read. The followee stream is read but
 * not locked: a followee deleted in the same instant may still gain this edge, which the
 * projections drop because it comes after the deletion.
 */
export async function changeFollow(
  ctx: CommandContext,
  command: FollowCommand,
  request: { requestId: string },
): Promise<{ position: Position | null }> {
  const { followerId, followeeId, actorId } = command.data;
  const metadata = eventMetadata({
    requestId: request.requestId,
    actorId,
    now: ctx.clock(),
  });
  const streamId = followStream(followerId, followeeId);
  return retryOnConflict(
    retryOptions(ctx, command.type === 'Follow' ? 'follow' : 'unfollow'),
    async () => {
      const [followee, edge] = await Promise.all([
        readStreamState(ctx.eventStore, userStream(followeeId), userFold),
        readStreamState(ctx.eventStore, streamId, {
          schemas: followEventSchemas,
          evolve: evolveFollow,
          initialState: { following: false, followee: userFold.initialState },
        }),
      ]);
      const events = decideFollow(command, evolveFollowee(edge.state, followee.state));
      if (events.length === 0) return { position: null };
      const { position } = await ctx.eventStore.append(streamId, toNewEvents(events, metadata), {
        expectedRevision: edge.expectedRevision,
      });
      return { position };
    },
  );
}

const evolveFollowee = <S extends { followee: unknown }>(edge: S, followee: S['followee']): S => ({
  ...edge,
  followee,
});
