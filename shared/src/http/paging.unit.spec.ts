import { randomBytes } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { describe, expect, it } from 'vitest';
import {
  idPosition,
  nextLink,
  pageRequestOf,
  pageWindow,
  parsePageLimit,
  SignedCursors,
} from './paging.ts';
import { Problem } from './problems.ts';

const cursors = new SignedCursors(randomBytes(32), ['items', 'others'] as const, idPosition);
const owner = uuidv7();
const decode = (cursor: string) => cursors.decode('items', owner, cursor);

const status = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(Problem);
    return (error as Problem).status;
  }
  return 'no error';
};

describe('the pagination kit', () => {
  it('takes limits of 1 to 100 in digits only, 20 by default', () => {
    expect(parsePageLimit(undefined)).toBe(20);
    expect(parsePageLimit('100')).toBe(100);
    for (const bad of ['0', '101', '1e1', ' 5', '0x10', '5.0', '', ['1', '2']])
      expect(status(() => parsePageLimit(bad))).toBe(400);
  });

  it('round-trips an id cursor of its listing and refuses it elsewhere', () => {
    const id = uuidv7();
    const cursor = cursors.encode('items', owner, id);
    expect(pageRequestOf({ cursor, limit: '2' }, decode)).toEqual({ limit: 2, after: id });
    expect(status(() => cursors.decode('others', owner, cursor))).toBe(400);
    expect(status(() => cursors.decode('items', uuidv7(), cursor))).toBe(400);
    expect(status(() => decode(Buffer.from(id).toString('base64url')))).toBe(400);
  });

  it('reads an empty cursor as the first page; refuses other parameters only when asked', () => {
    expect(pageRequestOf({ cursor: '' }, decode)).toEqual({ limit: 20, after: null });
    expect(pageRequestOf({ other: '1' }, decode)).toEqual({ limit: 20, after: null });
    expect(status(() => pageRequestOf({ other: '1' }, decode, { only: true }))).toBe(400);
  });

  it('windows limit + 1 rows and links the next page', () => {
    expect(pageWindow([1, 2, 3], 2)).toEqual({ shown: [1, 2], last: 2 });
    expect(pageWindow([1, 2], 2)).toEqual({ shown: [1, 2], last: null });
    expect(nextLink('/x', 5, 'c_-1')).toBe('</x?cursor=c_-1&limit=5>; rel="next"');
    expect(nextLink('/x', 5, null)).toBeNull();
  });
});
