import { readUserStreamEnds, userStreamId, type Position } from '@tweeter/shared';
import { foldEvents, handleCommand, onOwnStream } from '../core/commandHandling.ts';
import type { CommandContext } from '../core/context.ts';
import { eventMetadata } from '../core/events.ts';
import { decideUser, userFold } from '../domain/users/user.ts';

/**
 * Appends UserDeleted. The username stays reserved (its reservation stream is never released) and
 * the projections remove the user's tweets and follow edges in both directions.
 */
export async function deleteUser(
  ctx: CommandContext,
  command: { userId: string; actorId: string },
  request: { requestId: string },
): Promise<{ position: Position | null }> {
  // The deletion takes the user's turn in this process (its posts here wait), and keeps trying
  // longer than other commands: posts of the same user elsewhere may keep moving the stream on,
  // and a deletion should not lose to them.
  const { position } = await ctx.actors.inTurn(command.userId, () =>
    handleCommand(onOwnStream(ctx), {
      name: 'delete-user',
      streamId: userStreamId(command.userId),
      // Whether the user is active is in its stream's ends (however many tweets lie between).
      source: {
        read: async () => {
          const ends = await readUserStreamEnds(ctx.eventStore, command.userId);
          return {
            state: foldEvents(ends, userFold),
            expectedRevision: ends.at(-1)?.revision ?? 'no_stream',
          };
        },
      },
      decide: (current) => decideUser({ type: 'DeleteUser', data: command }, current),
      metadata: eventMetadata({ ...request, actorId: command.actorId, now: ctx.clock() }),
    }),
  );
  ctx.actors.forget(command.userId);
  return { position };
}
