import { authenticateBearer, storeReader, type EventStore } from '@tweeter/shared';
import type { RequestHandler, Response } from 'express';
import { userFold, type User } from '../domain/users/user.ts';
import { foldEvents } from './commandHandling.ts';

/** The authenticated caller, as the decisions about its request see it. */
export interface Actor {
  user: User;
}

/**
 * Checks the bearer token with the shared rule (`@tweeter/shared` authenticateBearer: the user's
 * own stream, so a token works on the very next request after sign-up and fails the moment its
 * user is deleted), then folds the stream it read into the user the command decides with.
 */
export function authenticate(eventStore: EventStore): RequestHandler {
  const readUserStream = storeReader(eventStore);
  return async (req, res, next) => {
    const { events } = await authenticateBearer(req.headers.authorization, readUserStream);
    const state = foldEvents(events, userFold);
    if (state.status !== 'active')
      throw new Error(`A verified user stream folds to ${state.status}`);
    (res.locals as { actor?: Actor }).actor = { user: state.user };
    next();
  };
}

export function actorOf(res: Response): Actor {
  const actor = (res.locals as { actor?: Actor }).actor;
  if (!actor) throw new Error('authenticate() must run before this handler');
  return actor;
}
