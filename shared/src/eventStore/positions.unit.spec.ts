import { describe, expect, it } from 'vitest';
import {
  assertPositionFromStore,
  comparePositions,
  decodePosition,
  encodePosition,
  isPosition,
  PositionFromAnotherStoreError,
  positionKind,
} from './port.ts';

describe('positions carry their store', () => {
  it('are told apart, and each kind keeps string order = log order', () => {
    const pg = encodePosition(5n, 7n);
    const esdb = encodePosition(5n, 7n, 'eventstoredb');
    expect(positionKind(pg)).toBe('postgres');
    expect(positionKind(esdb)).toBe('eventstoredb');
    expect(esdb).toBe(`esdb:${pg}`);
    expect(decodePosition(esdb)).toEqual([5n, 7n]);
    expect(isPosition(esdb) && isPosition(pg)).toBe(true);
    expect(isPosition('esdb:12')).toBe(false);
    const ordered = [1n, 255n, 256n, 2n ** 40n].map((n) => encodePosition(n, n, 'eventstoredb'));
    expect([...ordered].sort()).toEqual(ordered);
    expect(comparePositions(ordered[0]!, ordered[1]!)).toBe(-1);
  });

  it('are refused by the other store with what to do', () => {
    const pg = encodePosition(5n, 7n);
    expect(() => assertPositionFromStore('postgres', pg)).not.toThrow();
    expect(() => assertPositionFromStore('eventstoredb', null)).not.toThrow();
    const error = (() => {
      try {
        assertPositionFromStore('eventstoredb', pg);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(PositionFromAnotherStoreError);
    expect((error as Error).message).toMatch(/made by the PostgreSQL event store/);
    expect((error as Error).message).toMatch(/rebuild the projections/);
    expect(() =>
      assertPositionFromStore('postgres', encodePosition(1n, 1n, 'eventstoredb')),
    ).toThrow(/made by EventStoreDB, but this deployment now uses the PostgreSQL event store/);
    expect(() => assertPositionFromStore('postgres', 'garbage')).toThrow(
      /not an event-store position/,
    );
  });
});
