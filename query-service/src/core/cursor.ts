import { keysetPosition, SignedCursors, type KeysetPosition } from '@tweeter/shared';

/**
 * The query service's pagination cursors: the kit's signed cursors (shared/src/http/paging.ts)
 * over a keyset position (time, id), bound to one listing (which route, whose). 58 bytes, then
 * base64url (78 URL-safe characters):
 *
 *   version (1) | listing (1) | subject uuid (16) | time ms (8, signed) | id uuid (16) | HMAC (16)
 */
export const listingKinds = ['followers', 'following', 'tweets', 'timeline'] as const;
export type ListingKind = (typeof listingKinds)[number];

export type { KeysetPosition };

export class CursorCodec extends SignedCursors<ListingKind, KeysetPosition> {
  constructor(key: Buffer) {
    super(key, listingKinds, keysetPosition);
  }
}
