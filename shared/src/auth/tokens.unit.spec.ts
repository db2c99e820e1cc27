import { describe, expect, it } from 'vitest';
import { bearerToken, hashToken, issueToken, tokenMatchesHash, userIdOfToken } from './tokens.ts';

const userId = '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';

describe('API tokens', () => {
  it('name their user and match only their own hash', () => {
    const token = issueToken(userId);
    expect(userIdOfToken(token)).toBe(userId);
    expect(tokenMatchesHash(token, hashToken(token))).toBe(true);
    expect(tokenMatchesHash(issueToken(userId), hashToken(token))).toBe(false);
    expect(hashToken(token)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('reject malformed tokens and headers', () => {
    expect(userIdOfToken('mt_abc_def')).toBeNull();
    expect(userIdOfToken(`${issueToken(userId)}x`)).toBeNull();
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer  abc ')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeNull();
    expect(bearerToken(undefined)).toBeNull();
  });
});
