import type { Position } from '@tweeter/shared';
import { decideOnStream, retryOnConflict } from '../core/commandHandling.ts';
import { retryOptions, type CommandContext } from '../core/context.ts';
import { eventMetadata } from '../core/events.ts';
import { userStream } from '../core/streams.ts';
import { decideUser, type User } from '../users/user.ts';
import { userFold } from '../users/userFold.ts';

export interface UpdateProfileInput {
  displayName?: string | undefined;
  bio?: string | undefined;
}

export async function updateProfile(
  ctx: CommandContext,
  command: { userId: string; actorId: string } & UpdateProfileInput,
  request: { requestId: string },
): Promise<{ user: User; position: Position | null }> {
  const metadata = eventMetadata({
    requestId: request.requestId,
    actorId: command.actorId,
    now: ctx.clock(),
  });
  const { state, position } = await retryOnConflict(retryOptions(ctx, 'update-profile'), () =>
    decideOnStream(
      ctx.eventStore,
      userStream(command.userId),
      userFold,
      (current) => decideUser({ type: 'UpdateProfile', data: command }, current),
      metadata,
    ),
  );
  if (state.status !== 'active') throw new Error('UpdateProfile left the user inactive');
  return { user: state.user, position };
}
