import { assertNever, eventDataSchemas, type EventOfType } from '@tweeter/shared';
import { z } from 'zod';
import type { EventSchemas } from '../../core/events.ts';
import { Conflict, Forbidden, NotFound, Unauthenticated } from '../errors.ts';
import { isUserEvent, userEventSchemas, type UserEvent, type UserState } from '../users/user.ts';

export type TweetEvent = EventOfType<'TweetPosted'> | EventOfType<'TweetDeleted'>;

/**
 * Internal: the one event of a new tweet's own stream (`tweet-<id>`), appended once the tweet
 * itself is in its author's stream. It is how a tweet id leads to its author (whose stream a
 * delete then reads). Tweets posted before tweets moved into their authors' streams have their
 * TweetPosted and TweetDeleted in the tweet's own stream instead. Not part of the public
 * catalogue; projections skip it.
 */
export const tweetAuthorRecordedSchema = z.object({ tweetId: z.uuid(), authorId: z.uuid() });

export type TweetAuthorRecorded = {
  type: 'TweetAuthorRecorded';
  data: z.infer<typeof tweetAuthorRecordedSchema>;
};

export const tweetEventSchemas: EventSchemas<TweetEvent> = {
  TweetPosted: eventDataSchemas.TweetPosted,
  TweetDeleted: eventDataSchemas.TweetDeleted,
};

export type TweetStatus =
  | { status: 'none' }
  | { status: 'posted'; authorId: string }
  | { status: 'deleted'; authorId: string };

/**
 * One tweet, and the acting user's status. Folded from the author's stream (which holds the
 * author's user events and tweets: only this tweet's count) or from a tweet's own stream (an
 * older tweet's, with the actor as authentication read it).
 */
export interface TweetState {
  tweetId: string;
  tweet: TweetStatus;
  actor: UserState['status'];
}

export function evolveTweet(state: TweetState, event: TweetEvent | UserEvent): TweetState {
  if (isUserEvent(event)) {
    const actor =
      event.type === 'UserCreated' ? 'active' : event.type === 'UserDeleted' ? 'deleted' : null;
    return actor === null ? state : { ...state, actor };
  }
  if (event.data.tweetId !== state.tweetId) return state;
  switch (event.type) {
    case 'TweetPosted':
      return { ...state, tweet: { status: 'posted', authorId: event.data.authorId } };
    case 'TweetDeleted':
      return { ...state, tweet: { status: 'deleted', authorId: event.data.authorId } };
    default:
      return assertNever(event);
  }
}

/**
 * How the events of one tweet fold, from a stream that may hold other tweets too (its author's):
 * with the actor unknown until its UserCreated, or `actor` as authentication found it.
 */
export const tweetFoldOf = (tweetId: string, actor: UserState['status'] = 'unknown') => ({
  schemas: { ...userEventSchemas, ...tweetEventSchemas },
  evolve: evolveTweet,
  initialState: { tweetId, tweet: { status: 'none' }, actor } as TweetState,
});

export type TweetCommand =
  | {
      type: 'PostTweet';
      data: { tweetId: string; authorId: string; text: string; createdAt: string };
    }
  | { type: 'DeleteTweet'; data: { tweetId: string; actorId: string } };

export function decideTweet(command: TweetCommand, state: TweetState): TweetEvent[] {
  if (state.actor !== 'active') throw new Unauthenticated('The acting user does not exist');
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
