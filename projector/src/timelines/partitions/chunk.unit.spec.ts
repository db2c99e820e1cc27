import { describe, expect, it } from 'vitest';
import { decodeChunk, decodeChunks, encodeChunk } from './chunk.ts';

const op = (position: string, member: string) => [position, 'a', member, position];
const text = (args: Buffer[]) => args.map((a) => a.toString('latin1'));

describe('fan-out chunks', () => {
  it('decode what was encoded', () => {
    const homes = [
      { userId: 'u1', args: ['1', ...op('p1', 'x')] },
      { userId: 'u2', args: ['2', ...op('p1', 'x'), ...op('p2', 'y')] },
    ];
    const decoded = decodeChunk(encodeChunk(homes));
    expect(decoded.map((h) => ({ userId: h.userId, args: text(h.args) }))).toEqual(homes);
  });

  it('applied together, give each home one entry with its operations in chunk order', () => {
    const first = encodeChunk([
      { userId: 'u1', args: ['1', ...op('p1', 'x')] },
      { userId: 'u2', args: ['1', ...op('p1', 'x')] },
    ]);
    const second = encodeChunk([{ userId: 'u3', args: ['1', ...op('p2', 'y')] }]);
    const third = encodeChunk([
      { userId: 'u1', args: ['2', ...op('p3', 'z'), ...op('p4', 'w')] },
      { userId: 'u3', args: ['1', ...op('p4', 'w')] },
    ]);
    const merged = decodeChunks([first, second, third]);
    expect(merged.map((h) => ({ userId: h.userId, args: text(h.args) }))).toEqual([
      { userId: 'u1', args: ['3', ...op('p1', 'x'), ...op('p3', 'z'), ...op('p4', 'w')] },
      { userId: 'u2', args: ['1', ...op('p1', 'x')] },
      { userId: 'u3', args: ['2', ...op('p2', 'y'), ...op('p4', 'w')] },
    ]);
  });
});
