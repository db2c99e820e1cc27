import { assertNever } from '@tweeter/shared';
import { z } from 'zod';
import type { EventSchemas } from '../core/events.ts';
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
 * Internal event: not in the public catalogue; projections skip it.
 */
export type UsernameReserved = {
  type: 'UsernameReserved';
  data: { username: string; userId: string; reservedAt: string };
};

export type UsernameEvent = UsernameReserved;

export const usernameEventSchemas: EventSchemas<UsernameEvent> = {
  UsernameReserved: z.object({
    username: z.string(),
    userId: z.uuid(),
    reservedAt: z.iso.datetime({ precision: 3 }),
  }),
};

export type ReservationState =
  { status: 'free' } | { status: 'reserved'; userId: string; reservedAt: string };

export const initialReservationState: ReservationState = { status: 'free' };

export function evolveReservation(
  _state: ReservationState,
  event: UsernameEvent,
): ReservationState {
  switch (event.type) {
    case 'UsernameReserved':
      return { status: 'reserved', userId: event.data.userId, reservedAt: event.data.reservedAt };
    default:
      return assertNever(event.type);
  }
}

/** How long a reservation whose user stream is still missing is presumed in flight. */
export const defaultReservationGraceMs = 10_000;

export type ClaimDecision =
  /** Free, or already ours (a retried keyed sign-up): go on to create the user. */
  | { kind: 'claim' }
  /** Someone else holds it (created, deleted, or still in flight). */
  | { kind: 'taken' }
  /** An orphan: abandon its owner (unless already done), then re-reserve at the read revision. */
  | { kind: 'take-over'; orphanId: string; abandonOrphan: boolean };

/**
 * Decides what a sign-up does about a username, given the reservation and the state of the user
 * stream of the reservation's owner.
 */
export function decideClaim(
  claim: { userId: string; now: Date; graceMs: number },
  reservation: ReservationState,
  owner: UserState,
): ClaimDecision {
  if (reservation.status === 'free' || reservation.userId === claim.userId)
    return { kind: 'claim' };
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
