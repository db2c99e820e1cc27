import { describe, expect, it } from 'vitest';
import { comparePositions, decodePosition, encodePosition, isPosition } from './port.ts';

describe('positions', () => {
  it('compare as strings in log order, across digit-count boundaries', () => {
    const pairs: [bigint, bigint][] = [
      [0n, 1n],
      [9n, 99_999n],
      [99_999n, 5n],
      [100_000n, 1n],
      [100_000n, 2n],
      [2n ** 40n, 0n],
      [2n ** 63n, 2n ** 62n],
    ];
    const positions = pairs.map(([a, b]) => encodePosition(a, b));
    expect([...positions].sort()).toEqual(positions);
    for (let i = 1; i < positions.length; i++)
      expect(comparePositions(positions[i - 1]!, positions[i]!)).toBe(-1);
    expect(comparePositions(null, positions[0]!)).toBe(-1);
  });

  it('round-trip and reject anything else', () => {
    const p = encodePosition(123n, 456n);
    expect(decodePosition(p)).toEqual([123n, 456n]);
    expect(isPosition(p)).toBe(true);
    expect(isPosition('12')).toBe(false);
    expect(() => decodePosition('zz' as never)).toThrow(RangeError);
  });
});
