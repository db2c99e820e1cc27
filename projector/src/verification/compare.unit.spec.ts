import { describe, expect, it } from 'vitest';
import { diffKeys, diffRows, summarize } from './compare.ts';

describe('diffRows', () => {
  const key = (r: Record<string, unknown>) => String(r.id);

  it('finds nothing in equal tables, dates compared by instant', () => {
    const rows = [{ id: 'a', at: new Date('2026-01-01T00:00:00Z'), n: 1 }];
    const copy = [{ id: 'a', at: new Date('2026-01-01T00:00:00.000Z'), n: 1 }];
    expect(diffRows('users', rows, copy, key)).toEqual([]);
  });

  it('names missing, extra and changed rows with the changed fields', () => {
    const live = [
      { id: 'a', name: 'Mallory', n: 1 },
      { id: 'x', name: 'extra', n: 0 },
    ];
    const rebuilt = [
      { id: 'a', name: 'Alice', n: 1 },
      { id: 'b', name: 'Bob', n: 2 },
    ];
    expect(diffRows('users', live, rebuilt, key)).toEqual([
      { what: 'users a', how: 'name: live "Mallory", rebuilt "Alice"' },
      { what: 'users b', how: 'missing from the live copy' },
      { what: 'users x', how: 'only in the live copy' },
    ]);
  });
});

describe('diffKeys', () => {
  it('counts missing and extra members of a set and ignores what it is told to', () => {
    const live = { 'home:{u}': ['1', '2', '9'], meta: { checkpoint: 'x' } };
    const rebuilt = { 'home:{u}': ['1', '2', '3', '4'], meta: { checkpoint: 'y' } };
    expect(diffKeys(live, rebuilt, (k) => k === 'meta')).toEqual([
      { what: 'home:{u}', how: '2 missing (e.g. 3), 1 extra (e.g. 9); live 3, rebuilt 4' },
    ]);
  });

  it('tells an order difference from a member difference', () => {
    expect(diffKeys({ k: ['1', '2'] }, { k: ['2', '1'] })).toEqual([
      { what: 'k', how: 'same members, other order; live 2, rebuilt 2' },
    ]);
  });

  it('compares hashes field by field, and keys on one side only', () => {
    expect(
      diffKeys({ 'user:{b}': { d: 'Eve' }, gone: 'x' }, { 'user:{b}': { d: 'Bob' }, new: 'y' }),
    ).toEqual([
      { what: 'gone', how: 'only in the live copy' },
      { what: 'new', how: 'missing from the live copy' },
      { what: 'user:{b}', how: 'd: live "Eve", rebuilt "Bob"' },
    ]);
  });
});

describe('summarize', () => {
  it('caps a long list and says how many more there are', () => {
    const many = Array.from({ length: 30 }, (_, i) => ({ what: `users ${i}`, how: 'changed' }));
    const text = summarize(many, 25);
    expect(text.split('\n')).toHaveLength(26);
    expect(text.split('\n').at(-1)).toBe('  … and 5 more');
  });
});
