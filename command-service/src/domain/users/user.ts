import { assertNever, eventDataSchemas, type EventOfType } from '@tweeter/shared';
import { z } from 'zod';
import type { EventSchemas } from '../../core/events.ts';
import { Conflict, Forbidden, NotFound } from '../errors.ts';

/**
 * Internal: written to the user stream of a sign-up that reserved a username but never created the
 * user (a crash between the two appends). It makes the stream exist, so that sign-up's late
 * UserCreated fails its "no stream" expectation and the username can be handed to someone else.
 * Not part of the public catalogue; projections skip it.
 */
export type UserRegistrationAbandoned = {
  type: 'UserRegistrationAbandoned';
  data: { userId: string };
};

export type UserEvent =
  | EventOfType<'UserCreated'>
  | EventOfType<'UserProfileUpdated'>
  | EventOfType<'UserDeleted'>
  | UserRegistrationAbandoned;

export const userEventSchemas: EventSchemas<UserEvent> = {
  UserCreated: eventDataSchemas.UserCreated,
  UserProfileUpdated: eventDataSchemas.UserProfileUpdated,
  UserDeleted: eventDataSchemas.UserDeleted,
  UserRegistrationAbandoned: z.object({ userId: z.uuid() }),
};

/** Whether an event read alongside another stream is one of a user's (for states that embed one). */
export const isUserEvent = (event: { type: string }): event is UserEvent =>
  Object.hasOwn(userEventSchemas, event.type);

export interface User {
  id: string;
  username: string;
  displayName: string;
  bio: string;
  createdAt: string;
  tokenHash: string;
}

export type UserState =
  | { status: 'unknown' }
  | { status: 'abandoned' }
  | { status: 'active'; user: User }
  | { status: 'deleted'; user: User };

export const initialUserState: UserState = { status: 'unknown' };

/** 409 for a username someone else holds. */
export const usernameTaken = (username: string) =>
  new Conflict(`The username ${username} is taken`, { field: 'username' });

export function evolveUser(state: UserState, event: UserEvent): UserState {
  switch (event.type) {
    case 'UserCreated': {
      const { userId, username, displayName, bio, createdAt, tokenHash } = event.data;
      return {
        status: 'active',
        user: { id: userId, username, displayName, bio, createdAt, tokenHash },
      };
    }
    case 'UserProfileUpdated':
      if (state.status !== 'active') return state;
      return {
        status: 'active',
        user: {
          ...state.user,
          ...(event.data.displayName !== undefined ? { displayName: event.data.displayName } : {}),
          ...(event.data.bio !== undefined ? { bio: event.data.bio } : {}),
        },
      };
    case 'UserDeleted':
      return state.status === 'active' ? { status: 'deleted', user: state.user } : state;
    case 'UserRegistrationAbandoned':
      return state.status === 'unknown' ? { status: 'abandoned' } : state;
    default:
      return assertNever(event);
  }
}

/** How a user stream is folded. */
export const userFold = {
  schemas: userEventSchemas,
  evolve: evolveUser,
  initialState: initialUserState,
};

export type UserCommand =
  | {
      type: 'CreateUser';
      data: {
        userId: string;
        username: string;
        displayName: string;
        bio: string;
        tokenHash: string;
        createdAt: string;
      };
    }
  | {
      type: 'UpdateProfile';
      data: { userId: string; actorId: string; displayName?: string; bio?: string };
    }
  | { type: 'DeleteUser'; data: { userId: string; actorId: string } }
  | { type: 'AbandonRegistration'; data: { userId: string } };

/** Users are visible to others only while active; an abandoned or deleted one is "not found". */
function requireOwnActiveUser(
  state: UserState,
  userId: string,
  actorId: string,
): Extract<UserState, { status: 'active' }> {
  if (actorId !== userId) throw new Forbidden('You can only change your own account');
  if (state.status !== 'active') throw new NotFound(`User ${userId} does not exist`);
  return state;
}

export function decideUser(command: UserCommand, state: UserState): UserEvent[] {
  switch (command.type) {
    case 'CreateUser':
      // Abandoned: this sign-up's username reservation outlived the grace period and was taken
      // over (see usernameReservation.ts), so the name now belongs to someone else.
      if (state.status === 'abandoned') throw usernameTaken(command.data.username);
      if (state.status !== 'unknown')
        throw new Conflict(`User ${command.data.userId} already exists`);
      return [{ type: 'UserCreated', data: { ...command.data } }];
    case 'UpdateProfile': {
      const { userId, actorId, displayName, bio } = command.data;
      const { user } = requireOwnActiveUser(state, userId, actorId);
      const changes = {
        ...(displayName !== undefined && displayName !== user.displayName ? { displayName } : {}),
        ...(bio !== undefined && bio !== user.bio ? { bio } : {}),
      };
      // Nothing changes: nothing to record (the request still succeeds).
      if (Object.keys(changes).length === 0) return [];
      return [{ type: 'UserProfileUpdated', data: { userId, ...changes } }];
    }
    case 'DeleteUser': {
      const { userId, actorId } = command.data;
      requireOwnActiveUser(state, userId, actorId);
      return [{ type: 'UserDeleted', data: { userId } }];
    }
    case 'AbandonRegistration':
      // Only a stream that never got its UserCreated can be abandoned.
      if (state.status !== 'unknown') return [];
      return [{ type: 'UserRegistrationAbandoned', data: { userId: command.data.userId } }];
    default:
      return assertNever(command);
  }
}
