import {
  assertNever,
  eventDataSchemas,
  forbidden,
  notFound,
  validationProblem,
  type EventOfType,
} from '@tweeter/shared';
import type { EventSchemas } from '../core/events.ts';
import { evolveUser, initialUserState, type UserEvent, type UserState } from '../users/user.ts';

export type FollowEvent = EventOfType<'Followed'> | EventOfType<'Unfollowed'>;

export const followEventSchemas: EventSchemas<FollowEvent> = {
  Followed: eventDataSchemas.Followed,
  Unfollowed: eventDataSchemas.Unfollowed,
};

/** One follow edge (its own stream), plus the followee it points at. */
export interface FollowState {
  following: boolean;
  followee: UserState;
}

export const initialFollowState: FollowState = { following: false, followee: initialUserState };

/** Folds both the edge's events and the followee's user events (read from two streams). */
export function evolveFollow(state: FollowState, event: FollowEvent | UserEvent): FollowState {
  switch (event.type) {
    case 'Followed':
      return { ...state, following: true };
    case 'Unfollowed':
      return { ...state, following: false };
    case 'UserCreated':
    case 'UserProfileUpdated':
    case 'UserDeleted':
    case 'UserRegistrationAbandoned':
      return { ...state, followee: evolveUser(state.followee, event) };
    default:
      return assertNever(event);
  }
}

interface FollowEdge {
  followerId: string;
  followeeId: string;
  /** The authenticated caller (active by construction); only the follower may change the edge. */
  actorId: string;
}

export type FollowCommand =
  { type: 'Follow'; data: FollowEdge } | { type: 'Unfollow'; data: FollowEdge };

export function decideFollow(command: FollowCommand, state: FollowState): FollowEvent[] {
  const { followerId, followeeId, actorId } = command.data;
  if (actorId !== followerId) throw forbidden('You can only change whom you follow yourself');
  switch (command.type) {
    case 'Follow':
      if (followerId === followeeId) throw validationProblem('You cannot follow yourself');
      if (state.followee.status !== 'active') throw notFound(`User ${followeeId} does not exist`);
      // Idempotent: following again changes nothing and records nothing.
      return state.following ? [] : [{ type: 'Followed', data: { followerId, followeeId } }];
    case 'Unfollow':
      if (state.followee.status === 'unknown' || state.followee.status === 'abandoned')
        throw notFound(`User ${followeeId} does not exist`);
      // A deleted followee's edges are already gone from every read model: nothing to record.
      if (state.followee.status === 'deleted' || !state.following) return [];
      return [{ type: 'Unfollowed', data: { followerId, followeeId } }];
    default:
      return assertNever(command);
  }
}
