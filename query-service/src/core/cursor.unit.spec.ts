import { randomBytes } from 'node:crypto';
import { Problem } from '@tweeter/shared';
import { v7 as uuidv7 } from 'uuid';
import { describe, expect, it } from 'vitest';
import { CursorCodec } from './cursor.ts';

const codec = new CursorCodec(randomBytes(32));
const subject = uuidv7();
const position = { at: Date.parse('2026-11-24T10:15:30.123Z'), id: uuidv7() };

const rejects = (fn: () => unknown, message: RegExp) => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(Problem);
    expect((error as Problem).status).toBe(400);
    expect((error as Problem).type).toBe('validation');
    expect(JSON.stringify((error as Problem).toJSON())).toMatch(message);
    return;
  }
  throw new Error('expected a 400 problem');
};

describe('cursors', () => {
  it('round-trip the position of the listing they were issued for', () => {
    const cursor = codec.encode('timeline', subject, position);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(codec.decode('timeline', subject, cursor)).toEqual(position);
    expect(codec.decode('timeline', subject.toUpperCase(), cursor)).toEqual(position);
  });

  it('keep times before 1970 and ids of any value', () => {
    const odd = { at: -1, id: '00000000-0000-0000-0000-000000000000' };
    expect(codec.decode('tweets', subject, codec.encode('tweets', subject, odd))).toEqual(odd);
  });

  it('refuse a cursor of another listing or another user', () => {
    const cursor = codec.encode('followers', subject, position);
    rejects(() => codec.decode('following', subject, cursor), /another listing/);
    rejects(() => codec.decode('followers', uuidv7(), cursor), /another listing/);
  });

  it('refuse any altered byte', () => {
    const bytes = Buffer.from(codec.encode('tweets', subject, position), 'base64url');
    for (let i = 0; i < bytes.length; i++) {
      const altered = Buffer.from(bytes);
      altered[i] = altered[i]! ^ 0x01;
      rejects(() => codec.decode('tweets', subject, altered.toString('base64url')), /cursor/);
    }
  });

  it('refuse a cursor signed with another key', () => {
    const foreign = new CursorCodec(randomBytes(32)).encode('tweets', subject, position);
    rejects(() => codec.decode('tweets', subject, foreign), /altered or was not issued/);
  });

  it('refuse malformed input', () => {
    for (const bad of [
      '',
      'x',
      '!!!!',
      'a'.repeat(78),
      'a'.repeat(5000),
      `${codec.encode('tweets', subject, position)}=`,
    ])
      rejects(() => codec.decode('tweets', subject, bad), /cursor/);
  });
});
