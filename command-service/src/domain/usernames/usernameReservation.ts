import { assertNever } from '@tweeter/shared';
import { z } from 'zod';
import type { EventSchemas } from '../../core/events.ts';
import type { UserState } from '../users/user.ts';

/**
 * Case-insensitive username uniqueness without multi-stream transactions (EventStoreDB has none):
 *
 *  1. append UsernameReserved to `username-<lowercased>` expecting no stream;
 *  2. append UserCreated to `user-<id>` expecting no stream.
 *
 * A process can die between the steps and leave a reservation whose user never appears. Such an
 * orphan is kept for a grace period (its owner may still be in flight), then taken over: first
 * UserRegistrationAbandoned goes to the orphan's user stream (so the orphan's late step 2 can no
 * longer succeed), then a new UsernameReserved goes to the reservation stream at the exact revision
 * that was read (so two contenders cannot both take it over). A deleted user keeps the name.
 *
 * A keyed sign-up (Idempotency-Key) reserves before it records its key, so that a refused sign-up
 * appends nothing (see creatingUser/handler.ts). Its reservation names the key's scope and the request's
 * hash: a concurrent or crashed attempt of the very same request finds the name held under its
 * own key and carries on with that attempt's user id rather than being told the name is taken.
 *
 * Internal event: not in the public catalogue; projections skip it.
 */
export type UsernameReserved = {
  type: 'UsernameReserved';
  data: {
    username: string;
    userId: string;
    reservedAt: string;
    /** Set by a keyed sign-up (absent in reservations of older versions and unkeyed ones). */
    idempotency?: KeyedRequest | undefined;
  };
};

/** Which keyed request made a reservation: the key's scope id and the request's hash. */
export interface KeyedRequest {
  scope: string;
  requestHash: string;
}

export type UsernameEvent = UsernameReserved;

export const usernameEventSchemas: EventSchemas<UsernameEvent> = {
  UsernameReserved: z.object({
    username: z.string(),
    userId: z.uuid(),
    reservedAt: z.iso.datetime({ precision: 3 }),
    idempotency: z.object({ scope: z.uuid(), requestHash: z.string() }).optional(),
  }),
};

export type ReservationState =
  | { status: 'free' }
  | { status: 'reserved'; userId: string; reservedAt: string; idempotency?: KeyedRequest };

export const initialReservationState: ReservationState = { status: 'free' };

export function evolveReservation(
  _state: ReservationState,
  event: UsernameEvent,
): ReservationState {
  switch (event.type) {
    case 'UsernameReserved':
      return {
        status: 'reserved',
        userId: event.data.userId,
        reservedAt: event.data.reservedAt,
        ...(event.data.idempotency ? { idempotency: event.data.idempotency } : {}),
      };
    default:
      return assertNever(event.type);
  }
}

/** How a reservation stream is folded. */
export const reservationFold = {
  schemas: usernameEventSchemas,
  evolve: evolveReservation,
  initialState: initialReservationState,
};

/** How long a reservation whose user stream is still missing is presumed in flight. */
export const defaultReservationGraceMs = 10_000;

export type ClaimDecision =
  /** Free, or already ours (a retried keyed sign-up): go on to create the user. */
  | { kind: 'claim' }
  /**
   * Held by another attempt of this very keyed request (concurrent, or one that died before it
   * recorded its key): go on as that attempt, with its user id and time.
   */
  | { kind: 'adopt'; userId: string; reservedAt: string }
  /** Held under the same key by a different request: 409 idempotency-key-reused. */
  | { kind: 'key-reused' }
  /** Someone else holds it (created, deleted, or still in flight). */
  | { kind: 'taken' }
  /** An orphan: abandon its owner (unless already done), then re-reserve at the read revision. */
  | { kind: 'take-over'; orphanId: string; abandonOrphan: boolean };

/**
 * Decides what a sign-up does about a username, given the reservation and the state of the user
 * stream of the reservation's owner.
 */
export function decideClaim(
  claim: { userId: string; now: Date; graceMs: number; idempotency?: KeyedRequest | undefined },
  reservation: ReservationState,
  owner: UserState,
): ClaimDecision {
  if (reservation.status === 'free' || reservation.userId === claim.userId)
    return { kind: 'claim' };
  // An abandoned owner lost the name whatever key it came with: fall through to the take-over.
  const sameKey =
    claim.idempotency !== undefined &&
    reservation.idempotency?.scope === claim.idempotency.scope &&
    owner.status !== 'abandoned';
  if (sameKey)
    return reservation.idempotency?.requestHash === claim.idempotency?.requestHash
      ? { kind: 'adopt', userId: reservation.userId, reservedAt: reservation.reservedAt }
      : { kind: 'key-reused' };
  switch (owner.status) {
    case 'active':
    case 'deleted':
      return { kind: 'taken' };
    case 'abandoned':
      // A take-over that stopped half-way: the orphan can never complete, so no need to wait.
      return { kind: 'take-over', orphanId: reservation.userId, abandonOrphan: false };
    case 'unknown': {
      const age = claim.now.getTime() - Date.parse(reservation.reservedAt);
      if (age < claim.graceMs) return { kind: 'taken' };
      return { kind: 'take-over', orphanId: reservation.userId, abandonOrphan: true };
    }
    default:
      return assertNever(owner);
  }
}
