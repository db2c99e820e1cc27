import { bearerCredentials, tokenMatchesHash, unauthorized } from '@tweeter/shared';
import type { RequestHandler, Response } from 'express';
import type { ActingUser, ActorStates } from './actors.ts';

/** The authenticated caller, as the decisions about its request see it. */
export interface Actor {
  user: ActingUser;
}

/**
 * Checks the bearer token with the shared rule (the token names its user; that user's own stream
 * grants the token from UserCreated until UserDeleted, so a token works on the very next request
 * after sign-up and fails the moment its user is deleted), against the actor states of this
 * process (actors.ts).
 *
 * `cached` is for a route whose append goes to the user's own stream and expects the revision the
 * check saw (POST /tweets): a user deleted since the state was cached makes that append fail, and
 * the command then reads the deletion and answers 401. Every other route reads the stream's
 * newest events first (`current`).
 */
export function authenticate(actors: ActorStates, freshness: 'cached' | 'current'): RequestHandler {
  return async (req, res, next) => {
    const { token, userId } = bearerCredentials(req.headers.authorization);
    const state = await (freshness === 'cached' ? actors.cached(userId) : actors.current(userId));
    if (state.status !== 'active' || !tokenMatchesHash(token, state.user.tokenHash))
      throw unauthorized('The bearer token is not valid');
    (res.locals as { actor?: Actor }).actor = { user: state.user };
    next();
  };
}

export function actorOf(res: Response): Actor {
  const actor = (res.locals as { actor?: Actor }).actor;
  if (!actor) throw new Error('authenticate() must run before this handler');
  return actor;
}
