import { randomBytes } from 'node:crypto';
import { pageOf, pageRequestOf as kitPageRequestOf, Problem } from '@tweeter/shared';
import { v7 as uuidv7 } from 'uuid';
import { describe, expect, it } from 'vitest';
import { CursorCodec, type ListingKind } from './cursor.ts';

// The shared pagination kit (shared/src/http/paging.ts) as the query service's listings use it.
const codec = new CursorCodec(randomBytes(32));
const subject = uuidv7();
const request = (query: Record<string, unknown>) => query;
const pageRequestOf = (
  query: Record<string, unknown>,
  cursors: CursorCodec,
  kind: ListingKind,
  subjectId: string,
) => kitPageRequestOf(query, (cursor) => cursors.decode(kind, subjectId, cursor));

describe('page requests', () => {
  it('default to 20 items from the newest', () => {
    expect(pageRequestOf(request({}), codec, 'tweets', subject)).toEqual({
      limit: 20,
      after: null,
    });
  });

  it('accept limits of 1 to 100', () => {
    for (const limit of ['1', '20', '100', '007'])
      expect(pageRequestOf(request({ limit }), codec, 'tweets', subject).limit).toBe(Number(limit));
  });

  it('refuse other limits and repeated parameters with a 400', () => {
    for (const query of [
      { limit: '0' },
      { limit: '101' },
      { limit: '-1' },
      { limit: '1.5' },
      { limit: 'ten' },
      { limit: '' },
      { limit: ['1', '2'] },
      { cursor: ['a', 'b'] },
      { cursor: 'garbage' },
    ]) {
      expect(() => pageRequestOf(request(query), codec, 'tweets', subject)).toThrow(Problem);
    }
  });

  it('read the position of a cursor', () => {
    const after = { at: 1_700_000_000_000, id: uuidv7() };
    const cursor = codec.encode('tweets', subject, after);
    expect(pageRequestOf(request({ cursor, limit: '5' }), codec, 'tweets', subject)).toEqual({
      limit: 5,
      after,
    });
  });
});

describe('pages', () => {
  const rows = [5, 4, 3].map((at) => ({ at, id: `id${at}` }));
  const idOf = (r: { at: number; id: string }) => r.id;
  const cursorOf = (p: { at: number }) => `c${p.at}`;

  it('carry a cursor after the last item shown when one more row exists', () => {
    expect(pageOf(rows, 2, idOf, cursorOf)).toEqual({ data: ['id5', 'id4'], nextCursor: 'c4' });
  });

  it('end with a null cursor when no further row exists', () => {
    expect(pageOf(rows, 3, idOf, cursorOf)).toEqual({
      data: ['id5', 'id4', 'id3'],
      nextCursor: null,
    });
    expect(pageOf([], 3, idOf, cursorOf)).toEqual({ data: [], nextCursor: null });
  });
});
