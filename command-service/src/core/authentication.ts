import {
  bearerToken,
  tokenMatchesHash,
  unauthorized,
  userIdOfToken,
  type EventStore,
} from '@tweeter/shared';
import type { RequestHandler, Response } from 'express';
import { evolveUser, initialUserState, userEventSchemas, type User } from '../users/user.ts';
import { readStreamState } from './commandHandling.ts';
import { userStream } from './streams.ts';

export interface Actor {
  user: User;
  /** Revision of the user's stream when the request was authenticated. */
  revision: bigint;
}

/**
 * Checks the bearer token against the user's own stream, which the token names. Reading the
 * strongly consistent stream (not a projection) is what makes a token work on the very next
 * request after sign-up and fail the moment its user is deleted.
 */
export function authenticate(eventStore: EventStore): RequestHandler {
  return async (req, res, next) => {
    const token = bearerToken(req.headers.authorization);
    const userId = token === null ? null : userIdOfToken(token);
    if (token === null || userId === null) throw unauthorized();
    const { state, expectedRevision } = await readStreamState(eventStore, userStream(userId), {
      schemas: userEventSchemas,
      evolve: evolveUser,
      initialState: initialUserState,
    });
    if (
      state.status !== 'active' ||
      expectedRevision === 'no_stream' ||
      !tokenMatchesHash(token, state.user.tokenHash)
    )
      throw unauthorized('The bearer token is not valid');
    (res.locals as { actor?: Actor }).actor = { user: state.user, revision: expectedRevision };
    next();
  };
}

export function actorOf(res: Response): Actor {
  const actor = (res.locals as { actor?: Actor }).actor;
  if (!actor) throw new Error('authenticate() must run before this handler');
  return actor;
}
