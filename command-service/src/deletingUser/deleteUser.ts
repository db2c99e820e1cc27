import type { Position } from '@tweeter/shared';
import { decideOnStream, retryOnConflict } from '../core/commandHandling.ts';
import { retryOptions, type CommandContext } from '../core/context.ts';
import { eventMetadata } from '../core/events.ts';
import { userStream } from '../core/streams.ts';
import { decideUser } from '../users/user.ts';
import { userFold } from '../users/userFold.ts';

/**
 * Appends UserDeleted. The username stays reserved (its reservation stream is never released) and
 * the projections remove the user's tweets and follow edges in both directions.
 */
export async function deleteUser(
  ctx: CommandContext,
  command: { userId: string; actorId: string },
  request: { requestId: string },
): Promise<{ position: Position | null }> {
  const metadata = eventMetadata({
    requestId: request.requestId,
    actorId: command.actorId,
    now: ctx.clock(),
  });
  const { position } = await retryOnConflict(retryOptions(ctx, 'delete-user'), () =>
    decideOnStream(
      ctx.eventStore,
      userStream(command.userId),
      userFold,
      (current) => decideUser({ type: 'DeleteUser', data: command }, current),
      metadata,
    ),
  );
  return { position };
}
