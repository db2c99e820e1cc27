import { userStreamId, type Position, type RecordedEvent } from '@tweeter/shared';
import {
  foldEvents,
  handleCommand,
  onOwnStream,
  scanBackwards,
  type StreamState,
} from '../core/commandHandling.ts';
import type { CommandContext } from '../core/context.ts';
import { eventMetadata } from '../core/events.ts';
import {
  decideUser,
  evolveUser,
  isUserEvent,
  userFold,
  type User,
  type UserState,
} from '../domain/users/user.ts';

export interface UpdateProfileInput {
  displayName?: string | undefined;
  bio?: string | undefined;
}

export async function updateProfile(
  ctx: CommandContext,
  command: { userId: string; actorId: string } & UpdateProfileInput,
  request: { requestId: string },
): Promise<{ user: User; position: Position | null }> {
  // In the user's turn, with the budget of its own stream, since its posts move the stream on.
  const { state, events, position } = await ctx.actors.inTurn(command.userId, () =>
    handleCommand(onOwnStream(ctx), {
      name: 'update-profile',
      streamId: userStreamId(command.userId),
      source: { read: () => readProfile(ctx.eventStore, command.userId) },
      decide: (current) => decideUser({ type: 'UpdateProfile', data: command }, current),
      metadata: eventMetadata({ ...request, actorId: command.actorId, now: ctx.clock() }),
    }),
  );
  const after = events.reduce(evolveUser, state);
  if (after.status !== 'active') throw new Error('UpdateProfile left the user inactive');
  return { user: after.user, position };
}

/**
 * The user as its stream holds it, without reading every tweet in it: the first event (who, with
 * the profile it started with), then the stream newest first down to the newest change of each
 * profile field (a UserProfileUpdated carries only what changed).
 */
export async function readProfile(
  eventStore: CommandContext['eventStore'],
  userId: string,
): Promise<StreamState<UserState>> {
  const streamId = userStreamId(userId);
  const seen = { displayName: false, bio: false };
  const newest: RecordedEvent[] = [];
  const [[first], { head }] = await Promise.all([
    eventStore.readStream(streamId, { maxCount: 1 }),
    scanBackwards(eventStore, streamId, (event) => {
      if (event.revision === 0n) return true;
      if (!isUserEvent(event)) return false;
      newest.push(event);
      const data = event.data as { displayName?: unknown; bio?: unknown } | null;
      if (data?.displayName !== undefined) seen.displayName = true;
      if (data?.bio !== undefined) seen.bio = true;
      return event.type === 'UserProfileUpdated' && seen.displayName && seen.bio;
    }),
  ]);
  return {
    state: foldEvents(first === undefined ? [] : [first, ...newest.reverse()], userFold),
    expectedRevision: head?.revision ?? 'no_stream',
  };
}
