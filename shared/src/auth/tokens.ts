import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API tokens: `mt_<user id, 32 hex>_<secret, 43 base64url>`. The user id inside lets a service find
 * the one stream to check the token against (the user's own, strongly consistent), so a token works
 * for the very next request and stops working the moment the user is deleted. Only the SHA-256 of
 * the whole token is stored (in UserCreated); a fast hash is right for 256 random bits, as GitHub
 * and Stripe do for their tokens.
 */
const tokenPattern = /^mt_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/;

/**
 * What a credential of the product looks like anywhere in a text (a log line): an API token, with
 * any length of secret (so a truncated or suffixed one is caught too) and its separators
 * percent-encoded or not, or a webhook signing secret (`whsec_<base64>`).
 */
export const credentialInText =
  /mt(?:_|%5f)[0-9a-f]{32}(?:_|%5f)(?:[\w-]|%[0-9a-f]{2})+|whsec_(?:[\w+/=-]|%[0-9a-f]{2}){8,}/gi;

export function issueToken(userId: string, secret: Buffer = randomBytes(32)): string {
  if (secret.length !== 32) throw new RangeError('a token secret is 32 bytes');
  return `mt_${userId.replaceAll('-', '')}_${secret.toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** The user id a well-formed token names, or null for anything else. */
export function userIdOfToken(token: string): string | null {
  const hex = tokenPattern.exec(token)?.[1];
  if (!hex) return null;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function tokenMatchesHash(token: string, storedHash: string): boolean {
  const given = Buffer.from(hashToken(token), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return given.length === stored.length && timingSafeEqual(given, stored);
}

/** The token of an `Authorization: Bearer …` header, or null. */
export function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1] ?? null;
}
