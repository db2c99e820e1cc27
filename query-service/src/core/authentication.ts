import {
  bearerToken,
  forbidden,
  tokenMatchesHash,
  unauthorized,
  userIdOfToken,
  type EventStore,
} from '@tweeter/shared';
import type { Request } from 'express';

/** The token hash a user stream grants: UserCreated's, until UserDeleted ends it. */
function tokenHashOf(events: readonly { type: string; data: unknown }[]): string | null {
  let hash: string | null = null;
  for (const event of events) {
    if (event.type === 'UserCreated') hash = (event.data as { tokenHash: string }).tokenHash;
    else if (event.type === 'UserDeleted') hash = null;
  }
  return hash;
}

interface Waiter {
  resolve: (hash: string | null) => void;
  reject: (error: unknown) => void;
}

/**
 * Checks bearer tokens against the event stream of the user they name (`user-<id>`), not against
 * a projection: the stream is strongly consistent, so a token works on the very next request after
 * sign-up and stops working the moment its user is deleted, with no eventual-consistency gap.
 *
 * Reads of one user's stream are coalesced without weakening that: a request never shares a read
 * that was already under way when it arrived (that read might predate a deletion); it waits for
 * the next one, which starts when the current one ends and answers everyone who arrived meanwhile.
 * A busy timeline thus costs one stream read per round trip to the store, not one per request,
 * and a request waits at most one extra read.
 */
export class TokenVerifier {
  private readonly slots = new Map<string, { running: boolean; queued: Waiter[] }>();

  constructor(private readonly eventStore: EventStore) {}

  /** The hash of the token the user's stream accepts now, or null (no such user, or deleted). */
  grantedHash(userId: string): Promise<string | null> {
    return new Promise((resolve, reject) => {
      let slot = this.slots.get(userId);
      if (!slot) {
        slot = { running: false, queued: [] };
        this.slots.set(userId, slot);
      }
      slot.queued.push({ resolve, reject });
      if (!slot.running) this.read(userId, slot);
    });
  }

  private read(userId: string, slot: { running: boolean; queued: Waiter[] }): void {
    slot.running = true;
    const batch = slot.queued;
    slot.queued = [];
    this.eventStore
      .readStream(`user-${userId}`)
      .then(
        (events) => {
          const hash = tokenHashOf(events);
          for (const waiter of batch) waiter.resolve(hash);
        },
        (error: unknown) => {
          for (const waiter of batch) waiter.reject(error);
        },
      )
      .finally(() => {
        if (slot.queued.length > 0) this.read(userId, slot);
        else this.slots.delete(userId);
      });
  }

  /**
   * Checks that the request's token is `ownerId`'s and valid: 401 without a valid token, 403 when
   * it is another user's. The cheap part (a well-formed token naming `ownerId`) is checked at once
   * and synchronously, so the caller can start reading while the stream read (the slow part) runs:
   * only a request that names the owner's id in a well-formed token gets work started for it.
   */
  authenticateAs(req: Request, ownerId: string): Promise<void> {
    const token = bearerToken(req.headers.authorization);
    const userId = token === null ? null : userIdOfToken(token);
    if (token === null || userId === null) throw unauthorized();
    const verified = this.grantedHash(userId).then((hash) => {
      if (hash === null || !tokenMatchesHash(token, hash))
        throw unauthorized('The bearer token is not valid');
    });
    if (userId !== ownerId.toLowerCase()) {
      // A valid token of someone else is 403; an invalid one stays 401.
      return verified.then(() => {
        throw forbidden('Only the owner can read this home timeline');
      });
    }
    return verified;
  }
}
