import { LRUCache } from 'lru-cache';
import type { EventStore, RecordedEvent } from '../eventStore/port.ts';
import { unauthorized } from '../http/problems.ts';
import { bearerToken, tokenMatchesHash, userIdOfToken } from './tokens.ts';

/**
 * The one home of the user stream's name and of the token rule, for every service: a bearer token
 * names its user; that user's own stream (strongly consistent, not a projection) says which token
 * hash it grants, until the user is deleted. So a token works on the very next request after
 * sign-up and stops working the moment its user is deleted, with no projection lag.
 */

/** The stream every user's events live in (written by the command service). */
export const userStreamId = (userId: string): string => `user-${userId}`;

export interface VerifiedUser {
  id: string;
  username: string;
}

/** What the rule reads of a user's stream (a RecordedEvent is one). */
export interface UserStreamEvent {
  readonly type: string;
  readonly data: unknown;
}

/** The user a stream grants a token to, with the hash of that token. */
export interface TokenGrant extends VerifiedUser {
  tokenHash: string;
}

/**
 * The token a user's stream grants now: UserCreated's, until UserDeleted ends it for good. Null for
 * a stream without a user (none, or a registration abandoned before its UserCreated) and for a
 * deleted user.
 */
export function tokenGrantOf(
  userId: string,
  events: readonly UserStreamEvent[],
): TokenGrant | null {
  let grant: TokenGrant | null = null;
  for (const event of events) {
    const data = event.data as { username?: unknown; tokenHash?: unknown } | null;
    if (
      event.type === 'UserCreated' &&
      typeof data?.tokenHash === 'string' &&
      typeof data.username === 'string'
    ) {
      grant = { id: userId, username: data.username, tokenHash: data.tokenHash };
    } else if (event.type === 'UserDeleted') {
      return null;
    }
  }
  return grant;
}

/**
 * What the rule needs of a user's stream: its first event and its last (one event when it holds
 * one, none when it does not exist), so two one-event reads however many tweets the stream holds.
 * That is enough because nothing is ever appended to a user's stream after its UserDeleted: every
 * append to it expects the revision it was decided on, and a deleted user decides nothing. So the
 * first event says which token was granted (UserCreated) and the last whether it was revoked.
 */
export async function readUserStreamEnds(
  eventStore: Pick<EventStore, 'readStream'>,
  userId: string,
  firstEvents?: FirstEvents,
): Promise<RecordedEvent[]> {
  const streamId = userStreamId(userId);
  const known = firstEvents?.get(userId);
  const [first, last] = await Promise.all([
    known ? [known] : eventStore.readStream(streamId, { maxCount: 1 }),
    eventStore.readStream(streamId, { direction: 'backwards', maxCount: 1 }),
  ]);
  const [head] = first;
  const [tail] = last;
  if (head === undefined || tail === undefined) return [];
  if (!known) firstEvents?.set(userId, head);
  return head.revision === tail.revision ? [tail] : [head, tail];
}

/**
 * The first events of user streams, which never change once written: a checker that keeps them
 * reads only a stream's newest event per check. Bounded: the least recently used go first.
 */
export class FirstEvents extends LRUCache<string, RecordedEvent> {
  constructor(capacity = 100_000) {
    super({ max: capacity });
  }
}

/**
 * Reads what the rule needs of `userStreamId(userId)` (at least its first and last events, see
 * readUserStreamEnds): the store itself, or a caller's coalescing reader.
 */
export type UserStreamReader<E extends UserStreamEvent> = (userId: string) => Promise<readonly E[]>;

/** A token that passed, with the events of the user's stream it was checked against. */
export interface VerifiedToken<E extends UserStreamEvent> {
  user: VerifiedUser;
  /** What the check read, for a caller that folds the user's stream for decisions of its own. */
  events: readonly E[];
}

/**
 * The rule: token → the user id it names → that user's stream → the hash the stream grants (none
 * once the user is deleted) → the token matches it. Null for any token that fails it.
 */
export async function verifyToken<E extends UserStreamEvent>(
  token: string,
  readUserStream: UserStreamReader<E>,
): Promise<VerifiedToken<E> | null> {
  const userId = userIdOfToken(token);
  if (userId === null) return null;
  const events = await readUserStream(userId);
  const grant = tokenGrantOf(userId, events);
  if (grant === null || !tokenMatchesHash(token, grant.tokenHash)) return null;
  return { user: { id: grant.id, username: grant.username }, events };
}

/** Reads the ends of a user's stream from the store (the first events kept in `firstEvents`). */
export const storeReader =
  (
    eventStore: Pick<EventStore, 'readStream'>,
    firstEvents?: FirstEvents,
  ): UserStreamReader<RecordedEvent> =>
  (userId) =>
    readUserStreamEnds(eventStore, userId, firstEvents);

/** The rule against the event store itself: the user a token belongs to now, or null. */
export async function verifyUserToken(
  eventStore: EventStore,
  token: string,
): Promise<VerifiedUser | null> {
  const verified = await verifyToken(token, storeReader(eventStore));
  return verified?.user ?? null;
}

/** A bearer token and the user it names, read from an Authorization header. */
export interface BearerCredentials {
  token: string;
  userId: string;
}

/**
 * The cheap, synchronous half of authenticating a request: an `Authorization: Bearer` header with
 * a well-formed token, and the user id it names. Throws 401 (with WWW-Authenticate) otherwise.
 */
export function bearerCredentials(authorization: string | undefined): BearerCredentials {
  const token = bearerToken(authorization);
  const userId = token === null ? null : userIdOfToken(token);
  if (token === null || userId === null) throw unauthorized();
  return { token, userId };
}

/**
 * Authenticates a request: its bearer token must pass the rule (see verifyToken). Throws 401 with
 * WWW-Authenticate for a missing or malformed token and for one its user's stream does not grant.
 * `credentials` may come from bearerCredentials, for a caller that looks at the user id first.
 */
export async function authenticateBearer<E extends UserStreamEvent>(
  credentials: string | undefined | BearerCredentials,
  readUserStream: UserStreamReader<E>,
): Promise<VerifiedToken<E>> {
  const { token } = typeof credentials === 'object' ? credentials : bearerCredentials(credentials);
  const verified = await verifyToken(token, readUserStream);
  if (verified === null) throw unauthorized('The bearer token is not valid');
  return verified;
}
