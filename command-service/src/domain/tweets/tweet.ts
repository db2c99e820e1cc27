import { assertNever, eventDataSchemas, type EventOfType } from '@tweeter/shared';
import type { EventSchemas } from '../../core/events.ts';
import { Conflict, Forbidden, NotFound, Unauthenticated } from '../errors.ts';
import {
  evolveUser,
  initialUserState,
  isUserEvent,
  type User,
  type UserEvent,
  type UserState,
} from '../users/user.ts';

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
  if (isUserEvent(event)) return { ...state, actor: evolveUser(state.actor, event) };
  switch (event.type) {
    case 'TweetPosted':
      return { ...state, tweet: { status: 'posted', authorId: event.data.authorId } };
    case 'TweetDeleted':
      return { ...state, tweet: { status: 'deleted', authorId: event.data.authorId } };
    default:
      return assertNever(event);
  }
}

/** How a tweet stream is folded (with no actor yet). */
export const tweetFold = {
  schemas: tweetEventSchemas,
  evolve: evolveTweet,
  initialState: initialTweetState,
};

/**
 * How a tweet stream is folded for a command of `actor`, who was read to authenticate the request:
 * the actor comes from there, not from the tweet's stream.
 */
export const tweetFoldFor = (actor: User) => ({
  ...tweetFold,
  initialState: { ...initialTweetState, actor: { status: 'active', user: actor } } as TweetState,
});

export type TweetCommand =
  | {
      type: 'PostTweet';
      data: { tweetId: string; authorId: string; text: string; createdAt: string };
    }
  | { type: 'DeleteTweet'; data: { tweetId: string; actorId: string } };

export function decideTweet(command: TweetCommand, state: TweetState): TweetEvent[] {
  if (state.actor.status !== 'active') throw new Unauthenticated('The acting user does not exist');
  switch (command.type) {
    case 'PostTweet':
      if (state.tweet.status !== 'none') throw new Conflict(`Tweet ${command.data.tweetId} exists`);
      return [{ type: 'TweetPosted', data: { ...command.data } }];
    case 'DeleteTweet': {
      const { tweetId, actorId } = command.data;
      if (state.tweet.status !== 'posted') throw new NotFound(`Tweet ${tweetId} does not exist`);
      if (state.tweet.authorId !== actorId)
        throw new Forbidden('Only the author can delete a tweet');
      return [{ type: 'TweetDeleted', data: { tweetId, authorId: actorId } }];
    }
    default:
      return assertNever(command);
  }
}
