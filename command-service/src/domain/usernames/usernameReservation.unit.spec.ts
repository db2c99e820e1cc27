import { describe, expect, it } from 'vitest';
import { evolveUser, initialUserState, type UserEvent, type UserState } from '../users/user.ts';
import { decideClaim, type ReservationState } from './usernameReservation.ts';

const me = '01936b2a-7c3e-7d1a-9f4e-2b8c5d6e7f80';
const other = '01936b2a-7c3e-7d1a-9f4e-2b8c5d6e7f81';
const reservedAt = '2026-11-24T10:00:00.000Z';
const graceMs = 10_000;
const at = (ms: number) => new Date(Date.parse(reservedAt) + ms);
const reservedBy = (userId: string): ReservationState => ({
  status: 'reserved',
  userId,
  reservedAt,
});
const owner = (...events: UserEvent[]): UserState => events.reduce(evolveUser, initialUserState);
const created: UserEvent = {
  type: 'UserCreated',
  data: {
    userId: other,
    username: 'taken',
    displayName: 'taken',
    bio: '',
    tokenHash: 'd'.repeat(64),
    createdAt: reservedAt,
  },
};

describe('claiming a username', () => {
  const claim = (now: Date) => ({ userId: me, now, graceMs });

  it('given a free name, claims it', () =>
    expect(decideClaim(claim(at(0)), { status: 'free' }, owner())).toEqual({ kind: 'claim' }));
  it('given our own reservation (a repeated keyed sign-up), claims it', () =>
    expect(decideClaim(claim(at(0)), reservedBy(me), owner())).toEqual({ kind: 'claim' }));
  it('given a created owner, the name is taken', () =>
    expect(decideClaim(claim(at(60_000)), reservedBy(other), owner(created))).toEqual({
      kind: 'taken',
    }));
  it('given a deleted owner, the name stays taken for ever', () =>
    expect(
      decideClaim(
        claim(at(10 ** 10)),
        reservedBy(other),
        owner(created, { type: 'UserDeleted', data: { userId: other } }),
      ),
    ).toEqual({ kind: 'taken' }));
  it('given an owner still within the grace period, the name is taken', () =>
    expect(decideClaim(claim(at(graceMs - 1)), reservedBy(other), owner())).toEqual({
      kind: 'taken',
    }));
  it('given an orphan past the grace period, takes it over, abandoning the orphan first', () =>
    expect(decideClaim(claim(at(graceMs)), reservedBy(other), owner())).toEqual({
      kind: 'take-over',
      orphanId: other,
      abandonOrphan: true,
    }));
  it('given an orphan abandoned already, takes it over at once', () =>
    expect(
      decideClaim(
        claim(at(0)),
        reservedBy(other),
        owner({ type: 'UserRegistrationAbandoned', data: { userId: other } }),
      ),
    ).toEqual({ kind: 'take-over', orphanId: other, abandonOrphan: false }));
});

describe('claiming a username with an Idempotency-Key', () => {
  const key = { scope: '6f1d3c52-9a0e-5c8b-b7d2-3e5a1f0c9d47', requestHash: 'a'.repeat(64) };
  const keyedClaim = (requestHash = key.requestHash) => ({
    userId: me,
    now: at(0),
    graceMs,
    idempotency: { scope: key.scope, requestHash },
  });
  const reservedUnder = (idempotency: typeof key): ReservationState => ({
    status: 'reserved',
    userId: other,
    reservedAt,
    idempotency,
  });

  it('given a reservation by another attempt of the same request, adopts its user id and time', () =>
    expect(decideClaim(keyedClaim(), reservedUnder(key), owner())).toEqual({
      kind: 'adopt',
      userId: other,
      reservedAt,
    }));
  it('given a reservation under the same key by another request, the key is reused', () =>
    expect(decideClaim(keyedClaim('b'.repeat(64)), reservedUnder(key), owner())).toEqual({
      kind: 'key-reused',
    }));
  it('given a reservation under another key, the name is taken as ever', () =>
    expect(
      decideClaim(
        keyedClaim(),
        reservedUnder({ ...key, scope: '6f1d3c52-9a0e-5c8b-b7d2-3e5a1f0c9d48' }),
        owner(),
      ),
    ).toEqual({ kind: 'taken' }));
  it('given the same-key attempt abandoned, takes the name over like any orphan', () =>
    expect(
      decideClaim(
        keyedClaim(),
        reservedUnder(key),
        owner({ type: 'UserRegistrationAbandoned', data: { userId: other } }),
      ),
    ).toEqual({ kind: 'take-over', orphanId: other, abandonOrphan: false }));
  it('without a key, a keyed reservation is taken as ever', () =>
    expect(decideClaim({ userId: me, now: at(0), graceMs }, reservedUnder(key), owner())).toEqual({
      kind: 'taken',
    }));
});
