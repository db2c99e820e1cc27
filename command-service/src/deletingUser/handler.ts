import { userStreamId, type Position } from '@tweeter/shared';
import { handleCommand } from '../core/commandHandling.ts';
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
  const { position } = await handleCommand(ctx, {
    name: 'delete-user',
    streamId: userStreamId(command.userId),
    source: { fold: userFold },
    decide: (current) => decideUser({ type: 'DeleteUser', data: command }, current),
    metadata: eventMetadata({ ...request, actorId: command.actorId, now: ctx.clock() }),
  });
  return { position };
}
