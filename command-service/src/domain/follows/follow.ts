import { assertNever, eventDataSchemas, type EventOfType } from '@tweeter/shared';
import type { EventSchemas } from '../../core/events.ts';
import { Forbidden, Invalid, NotFound } from '../errors.ts';
import {
  evolveUser,
  initialUserState,
  isUserEvent,
  userEventSchemas,
  type UserEvent,
  type UserState,
} from '../users/user.ts';

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
  if (isUserEvent(event)) return { ...state, followee: evolveUser(state.followee, event) };
  switch (event.type) {
    case 'Followed':
      return { ...state, following: true };
    case 'Unfollowed':
      return { ...state, following: false };
    default:
      return assertNever(event);
  }
}

/**
 * How an edge is folded: its own stream, plus the followee's user stream read alongside it (read,
 * not locked: a followee deleted in the same instant may still gain the edge, which the
 * projections drop because it comes after the deletion).
 */
export const followFold = {
  schemas: { ...userEventSchemas, ...followEventSchemas },
  evolve: evolveFollow,
  initialState: initialFollowState,
};

export interface FollowEdge {
  followerId: string;
  followeeId: string;
  /** The authenticated caller (active by construction); only the follower may change the edge. */
  actorId: string;
}

export type FollowCommand =
  { type: 'Follow'; data: FollowEdge } | { type: 'Unfollow'; data: FollowEdge };

export function decideFollow(command: FollowCommand, state: FollowState): FollowEvent[] {
  const { followerId, followeeId, actorId } = command.data;
  if (actorId !== followerId) throw new Forbidden('You can only change whom you follow yourself');
  switch (command.type) {
    case 'Follow':
      if (followerId === followeeId) throw new Invalid('You cannot follow yourself');
      if (state.followee.status !== 'active')
        throw new NotFound(`User ${followeeId} does not exist`);
      // Idempotent: following again changes nothing and records nothing.
      return state.following ? [] : [{ type: 'Followed', data: { followerId, followeeId } }];
    case 'Unfollow':
      if (state.followee.status === 'unknown' || state.followee.status === 'abandoned')
        throw new NotFound(`User ${followeeId} does not exist`);
      // A deleted followee's edges are already gone from every read model: nothing to record.
      if (state.followee.status === 'deleted' || !state.following) return [];
      return [{ type: 'Unfollowed', data: { followerId, followeeId } }];
    default:
      return assertNever(command);
  }
}
