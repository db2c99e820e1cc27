import {
  authenticateBearer,
  bearerCredentials,
  forbidden,
  FirstEvents,
  readUserStreamEnds,
  type EventStore,
  type RecordedEvent,
} from '@tweeter/shared';
import type { Request } from 'express';

interface Waiter {
  resolve: (events: readonly RecordedEvent[]) => void;
  reject: (error: unknown) => void;
}

/**
 * Checks bearer tokens with the shared rule (`@tweeter/shared` verifyToken: the user's own event
 * stream, not a projection, so a token works on the very next request after sign-up and stops
 * working the moment its user is deleted, with no eventual-consistency gap).
 *
 * What this adds is coalescing of the reads of one user's stream, without weakening that: a
 * request never shares a read that was already under way when it arrived (that read might predate
 * a deletion); it waits for the next one, which starts when the current one ends and answers
 * everyone who arrived meanwhile. A busy timeline thus costs one stream read per round trip to the
 * store, not one per request, and a request waits at most one extra read.
 */
export class TokenVerifier {
  private readonly slots = new Map<string, { running: boolean; queued: Waiter[] }>();

  /** First events never change: a check then reads only the stream's newest event. */
  private readonly firstEvents = new FirstEvents();

  constructor(private readonly eventStore: EventStore) {}

  /** The ends of the user's stream as it is now: a read that starts no earlier than this call. */
  readUserStream(userId: string): Promise<readonly RecordedEvent[]> {
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
    readUserStreamEnds(this.eventStore, userId, this.firstEvents)
      .then(
        (events) => {
          for (const waiter of batch) waiter.resolve(events);
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
    const credentials = bearerCredentials(req.headers.authorization);
    const verified = authenticateBearer(credentials, (userId) => this.readUserStream(userId));
    if (credentials.userId !== ownerId.toLowerCase()) {
      // A valid token of someone else is 403; an invalid one stays 401.
      return verified.then(() => {
        throw forbidden('Only the owner can read this home timeline');
      });
    }
    return verified.then(() => undefined);
  }
}
