import type { Position } from '@tweeter/shared';
import { describe, expect, it } from 'vitest';
import { encodeHomeOps, EntryRecords, packOps } from '../homeScript.ts';
import type { HomeOp } from '../stepPlan.ts';
import {
  decodeChunk,
  decodeEarlierChunk,
  earlierLayoutGuard,
  encodeChunk,
  mergeChunkHomes,
} from './chunk.ts';

/** A home's packed operations read back as the script reads them (struct '>Bc0c1I4c0I4c0'). */
function readOps(ops: Buffer): [string, string, string, string][] {
  const out: [string, string, string, string][] = [];
  let at = 0;
  while (at < ops.length) {
    const position = ops.toString('latin1', at + 1, (at += 1 + ops[at]!));
    const kind = String.fromCharCode(ops[at]!);
    const records = ops.readUInt32BE(at + 1);
    const blob = ops.toString('latin1', at + 5, (at += 5 + records));
    const idsLength = ops.readUInt32BE(at);
    out.push([position, kind, blob, ops.toString('latin1', at + 4, (at += 4 + idsLength))]);
  }
  return out;
}

const packed = (...ops: [string, string, string, string][]) =>
  packOps(ops.map(([p, k, b, i]) => [p, k.charCodeAt(0), Buffer.from(b), i]));
const text = (homes: { userId: string; ops: Buffer }[]) =>
  homes.map((h) => ({ userId: h.userId, ops: readOps(h.ops) }));

describe('fan-out chunks', () => {
  it('decode what was encoded', () => {
    const homes = [
      { userId: 'u1', ops: packed(['p1', 'a', 'x', 'p1']) },
      { userId: 'u2', ops: packed(['p1', 'a', 'x', 'p1'], ['p2', 'r', 'y', 'p2']) },
    ];
    expect(text(decodeChunk(encodeChunk(homes)))).toEqual(text(homes));
    expect(text(homes)[1]!.ops).toEqual([
      ['p1', 'a', 'x', 'p1'],
      ['p2', 'r', 'y', 'p2'],
    ]);
  });

  it('applied together, give each home one entry with its operations in chunk order', () => {
    const first = [
      { userId: 'u1', ops: packed(['p1', 'a', 'x', 'p1']) },
      { userId: 'u2', ops: packed(['p1', 'a', 'x', 'p1']) },
    ];
    const second = [{ userId: 'u3', ops: packed(['p2', 'a', 'y', 'p2']) }];
    const third = [
      { userId: 'u1', ops: packed(['p3', 'a', 'z', 'p3'], ['p4', 'd', '', '']) },
      { userId: 'u3', ops: packed(['p4', 'm', 'w', '']) },
    ];
    expect(text(mergeChunkHomes([first, second, third]))).toEqual([
      {
        userId: 'u1',
        ops: [
          ['p1', 'a', 'x', 'p1'],
          ['p3', 'a', 'z', 'p3'],
          ['p4', 'd', '', ''],
        ],
      },
      { userId: 'u2', ops: [['p1', 'a', 'x', 'p1']] },
      {
        userId: 'u3',
        ops: [
          ['p2', 'a', 'y', 'p2'],
          ['p4', 'm', 'w', ''],
        ],
      },
    ]);
  });

  it('of the earlier layout (an argument per field) are read as the same operations', () => {
    // Per home: u16 id length, id, u32 argument count, each argument as u32 length and bytes.
    const home = (userId: string, args: string[]) =>
      Buffer.concat([
        Buffer.from([0, userId.length]),
        Buffer.from(userId),
        Buffer.from([0, 0, 0, args.length]),
        ...args.flatMap((a) => [Buffer.from([0, 0, 0, a.length]), Buffer.from(a, 'latin1')]),
      ]);
    const earlier = Buffer.concat([
      home('u1', ['2', 'p1', 'a', 'x', 'p1', 'p2', 'r', 'y', 'p2']),
      home('u2', ['1', 'p3', 'd', '', '']),
    ]);
    expect(text(decodeEarlierChunk(earlier))).toEqual([
      {
        userId: 'u1',
        ops: [
          ['p1', 'a', 'x', 'p1'],
          ['p2', 'r', 'y', 'p2'],
        ],
      },
      { userId: 'u2', ops: [['p3', 'd', '', '']] },
    ]);
  });

  it('carry in the earlier field a guard that the earlier layout’s decoder refuses', () => {
    // An earlier applier decodes `homes` this way: it throws, rather than apply nothing and move on.
    expect(() => decodeEarlierChunk(earlierLayoutGuard)).toThrow(RangeError);
  });
});

describe('a home’s packed operations', () => {
  const position = (n: number) => n.toString(16).padStart(32, '0') as Position;
  const member = Buffer.alloc(16, 1);
  const entry = { score: 1_700_000_000_000, member };
  const record = Buffer.concat([Buffer.alloc(16, 0xfe), Buffer.from('1700000000000')]).toString(
    'latin1',
  );

  it('hold each operation with its position, kind, records and stream ids', () => {
    const ops: HomeOp[] = [
      { kind: 'add', position: position(1), entries: [entry], merge: true, positions: [] },
      { kind: 'remove', position: position(2), members: [member] },
      { kind: 'drop', position: position(3) },
    ];
    expect(readOps(encodeHomeOps(ops, new EntryRecords()))).toEqual([
      [position(1), 'm', record, ''],
      [position(2), 'r', Buffer.alloc(16, 0xfe).toString('latin1'), '0-2'],
      [position(3), 'd', '', ''],
    ]);
  });

  it('of a post’s push are one argument shared by every home it reaches, without stream ids while not streaming', () => {
    const records = new EntryRecords();
    const push = (): HomeOp[] => [
      {
        kind: 'add',
        position: position(5),
        entries: [entry],
        merge: false,
        positions: [position(5)],
      },
    ];
    const first = encodeHomeOps(push(), records);
    expect(encodeHomeOps(push(), records)).toBe(first);
    expect(readOps(first)).toEqual([[position(5), 'a', record, '0-5']]);
    expect(readOps(encodeHomeOps(push(), new EntryRecords(), false))).toEqual([
      [position(5), 'a', record, ''],
    ]);
  });

  it('hold each entry as its member complemented and its score in 13 digits, whatever the bytes and digits', () => {
    const scores = [0, 7, 9_999_999, 10_000_000, 1_700_000_000_123, 9_999_999_999_999];
    const members = scores.map((_, i) =>
      Buffer.from(Array.from({ length: 16 }, (_, j) => (i * 37 + j * 101) % 256)),
    );
    const entries = scores.map((score, i) => ({ score, member: members[i]! }));
    const expected = entries.map((e) =>
      Buffer.concat([
        Buffer.from(e.member.map((b) => 255 - b)),
        Buffer.from(String(e.score).padStart(13, '0')),
      ]),
    );
    const ops: HomeOp[] = [
      { kind: 'add', position: position(9), entries, merge: true, positions: [] },
    ];
    expect(readOps(encodeHomeOps(ops, new EntryRecords()))).toEqual([
      [position(9), 'm', Buffer.concat(expected).toString('latin1'), ''],
    ]);
    // The member itself is left as it was (records are written elsewhere).
    expect(entries[1]!.member).toEqual(members[1]);
  });

  it('refuse a score the 13 digits cannot hold', () => {
    for (const score of [-1, 1e13, 1.5, Number.NaN])
      expect(() => new EntryRecords().encode([{ score, member }])).toThrow(RangeError);
  });
});
