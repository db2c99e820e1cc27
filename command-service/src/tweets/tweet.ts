import {
  assertNever,
  conflict,
  eventDataSchemas,
  forbidden,
  notFound,
  unauthorized,
  type EventOfType,
} from '@tweeter/shared';
import type { EventSchemas } from '../core/events.ts';
import { evolveUser, initialUserState, type UserEvent, type UserState } from '../users/user.ts';

export type TweetEvent = EventOfType<'TweetPosted'> | EventOfType<'TweetDeleted'>;

export const tweetEventSchemas: EventSchemas<TweetEvent> = {
  TweetPosted: eventDataSchemas.TweetPosted,
  TweetDeleted: eventDataSchemas.TweetDeleted,
};

export type TweetStatus =
  | { status: 'none' }
  | { status: 'posted'; authorId: string }
  | { status: 'deleted'; authorId: string };

/** A tweet's own stream, plus the acting user (already read to authenticate the request). */
export interface TweetState {
  tweet: TweetStatus;
  actor: UserState;
}

export const initialTweetState: TweetState = {
  tweet: { status: 'none' },
  actor: initialUserState,
};

export function evolveTweet(state: TweetState, event: TweetEvent | UserEvent): TweetState {
  switch (event.type) {
    case 'TweetPosted':
      return { ...state, tweet: { status: 'posted', authorId: event.data.authorId } };
    case 'TweetDeleted':
      return { ...state, tweet: { status: 'deleted', authorId: event.data.authorId } };
    case 'UserCreated':
    case 'UserProfileUpdated':
    case 'UserDeleted':
    case 'UserRegistrationAbandoned':
      return { ...state, actor: evolveUser(state.actor, event) };
    default:
      return assertNever(event);
  }
}

export type TweetCommand =
  | {
      type: 'PostTweet';
      data: { tweetId: string; authorId: string; text: string; createdAt: string };
    }
  | { type: 'DeleteTweet'; data: { tweetId: string; actorId: string } };

export function decideTweet(command: TweetCommand, state: TweetState): TweetEvent[] {
  if (state.actor.status !== 'active') throw unauthorized('The acting user does not exist');
  switch (command.type) {
    case 'PostTweet':
      if (state.tweet.status !== 'none') throw conflict(`Tweet ${command.data.tweetId} exists`);
      return [{ type: 'TweetPosted', data: { ...command.data } }];
    case 'DeleteTweet': {
      const { tweetId, actorId } = command.data;
      if (state.tweet.status !== 'posted') throw notFound(`Tweet ${tweetId} does not exist`);
      if (state.tweet.authorId !== actorId) throw forbidden('Only the author can delete a tweet');
      return [{ type: 'TweetDeleted', data: { tweetId, authorId: actorId } }];
    }
    default:
      return assertNever(command);
  }
}
