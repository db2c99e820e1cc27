import { idParam } from '@tweeter/shared';
import { describe, expect, it } from 'vitest';
import { createUserBody } from '../creatingUser/route.ts';
import { postTweetBody } from '../postingTweet/route.ts';
import { updateProfileBody } from '../updatingProfile/route.ts';
import { tweetTextField, usernameField } from './textFields.ts';

const ok = (schema: { safeParse: (v: unknown) => { success: boolean } }, value: unknown) =>
  expect(schema.safeParse(value).success, JSON.stringify(value)).toBe(true);
const bad = (schema: { safeParse: (v: unknown) => { success: boolean } }, value: unknown) =>
  expect(schema.safeParse(value).success, JSON.stringify(value)).toBe(false);

describe('tweet text', () => {
  it('counts code points: 280 emoji fit, 281 do not', () => {
    ok(tweetTextField, '😀'.repeat(280));
    bad(tweetTextField, '😀'.repeat(281));
  });
  it('counts after NFC: 280 × (e + combining acute) is 280 characters', () => {
    const decomposed = 'e\u0301'.repeat(280);
    expect([...decomposed].length).toBe(560);
    expect(tweetTextField.parse(decomposed)).toBe('\u00e9'.repeat(280));
  });
  it('keeps combining marks that have no precomposed form', () =>
    ok(tweetTextField, 'q\u0307\u0323'));
  it('accepts right-to-left text and bidi marks', () => {
    ok(tweetTextField, 'שלום עולם');
    ok(tweetTextField, 'مرحبا \u200f بالعالم');
  });
  it('accepts newline and tab', () => ok(tweetTextField, 'line 1\n\tline 2'));
  it('refuses empty and all-whitespace text', () => {
    bad(tweetTextField, '');
    bad(tweetTextField, ' \n\t\u3000\u00a0');
    bad(tweetTextField, '\u200b\u200b');
  });
  it('refuses NUL and other control characters', () => {
    bad(tweetTextField, 'a\u0000b');
    bad(tweetTextField, 'a\u0007b');
    bad(tweetTextField, 'a\rb');
    bad(tweetTextField, 'a\u0085b');
  });
  it('refuses lone surrogates', () => {
    bad(tweetTextField, 'a\ud800b');
    bad(tweetTextField, '\udc00');
  });
  it('refuses unknown fields and non-strings', () => {
    bad(postTweetBody, { text: 'hi', extra: 1 });
    bad(postTweetBody, { text: 42 });
    bad(postTweetBody, {});
  });
});

describe('username', () => {
  it('is 1–15 of A–Z, a–z, 0–9 and _', () => {
    ok(usernameField, 'a');
    ok(usernameField, 'Ada_Lovelace_15');
    bad(usernameField, '');
    bad(usernameField, 'a234567890123456');
    bad(usernameField, 'ada-lovelace');
    bad(usernameField, 'ädä');
    bad(usernameField, 'ada ');
  });
});

describe('profile fields', () => {
  it('display name: 0–50 characters, single line', () => {
    ok(createUserBody, { username: 'a', displayName: '' });
    ok(createUserBody, { username: 'a', displayName: '😀'.repeat(50) });
    bad(createUserBody, { username: 'a', displayName: 'x'.repeat(51) });
    bad(createUserBody, { username: 'a', displayName: 'two\nlines' });
  });
  it('bio: 0–160 characters, newlines allowed', () => {
    ok(updateProfileBody, { bio: '' });
    ok(updateProfileBody, { bio: 'a\nb' });
    ok(updateProfileBody, { bio: 'x'.repeat(160) });
    bad(updateProfileBody, { bio: 'x'.repeat(161) });
    bad(updateProfileBody, { bio: '\u0000' });
  });
  it('refuses unknown fields', () => {
    bad(createUserBody, { username: 'a', token: 'x' });
    bad(updateProfileBody, { username: 'b' });
  });
});

describe('ids in paths', () => {
  it('are UUIDs, lowercased', () => {
    expect(idParam.parse('01936B2A-7C3E-7D1A-9F4E-2B8C5D6E7F80')).toBe(
      '01936b2a-7c3e-7d1a-9f4e-2b8c5d6e7f80',
    );
    bad(idParam, 'not-a-uuid');
    bad(idParam, '01936b2a7c3e7d1a9f4e2b8c5d6e7f80');
  });
});
