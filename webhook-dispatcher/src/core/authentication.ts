import {
  bearerToken,
  unauthorized,
  verifyUserToken,
  type EventStore,
  type VerifiedUser,
} from '@tweeter/shared';
import type { RequestHandler, Response } from 'express';

/** Checks the bearer token against the user's own stream (strongly consistent; see shared). */
export function authenticate(eventStore: EventStore): RequestHandler {
  return async (req, res, next) => {
    const token = bearerToken(req.headers.authorization);
    if (token === null) throw unauthorized();
    const user = await verifyUserToken(eventStore, token);
    if (user === null) throw unauthorized('The bearer token is not valid');
    (res.locals as { caller?: VerifiedUser }).caller = user;
    next();
  };
}

export function callerOf(res: Response): VerifiedUser {
  const caller = (res.locals as { caller?: VerifiedUser }).caller;
  if (!caller) throw new Error('authenticate() must run before this handler');
  return caller;
}
