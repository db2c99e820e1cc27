import { userStreamId, type Position } from '@tweeter/shared';
import { handleCommand, onOwnStream } from '../core/commandHandling.ts';
import type { CommandContext } from '../core/context.ts';
import { eventMetadata } from '../core/events.ts';
import { decideUser, evolveUser, userFold, type User } from '../domain/users/user.ts';

export interface UpdateProfileInput {
  displayName?: string | undefined;
  bio?: string | undefined;
}

export async function updateProfile(
  ctx: CommandContext,
  command: { userId: string; actorId: string } & UpdateProfileInput,
  request: { requestId: string },
): Promise<{ user: User; position: Position | null }> {
  // The whole user stream (its tweets too) for the profile as it is: in the user's turn, with the
  // budget of its own stream, since its posts move the stream on.
  const { state, events, position } = await ctx.actors.inTurn(command.userId, () =>
    handleCommand(onOwnStream(ctx), {
      name: 'update-profile',
      streamId: userStreamId(command.userId),
      source: { fold: userFold },
      decide: (current) => decideUser({ type: 'UpdateProfile', data: command }, current),
      metadata: eventMetadata({ ...request, actorId: command.actorId, now: ctx.clock() }),
    }),
  );
  const after = events.reduce(evolveUser, state);
  if (after.status !== 'active') throw new Error('UpdateProfile left the user inactive');
  return { user: after.user, position };
}
