import { createHmac, timingSafeEqual } from 'node:crypto';
import { validationProblem } from '@tweeter/shared';

/**
 * Opaque pagination cursors. A cursor is a keyset position (time, id) bound to one listing (which
 * route, whose) and signed, so a client can neither forge a position nor replay a cursor of one
 * listing on another. Binary, then base64url: 78 URL-safe characters.
 *
 *   version (1) | listing (1) | subject uuid (16) | time ms (8, signed) | id uuid (16) | HMAC (16)
 *
 * The HMAC (SHA-256, truncated to 128 bits as RFC 2104 allows) covers every byte before it.
 */
export const listingKinds = ['followers', 'following', 'tweets', 'timeline'] as const;
export type ListingKind = (typeof listingKinds)[number];

/** A keyset position: the last item of the previous page, by (time desc, id desc). */
export interface KeysetPosition {
  /** Epoch milliseconds (created at / followed at). */
  at: number;
  /** Lower-case UUID of the item (tweet id, or the other user of a follow). */
  id: string;
}

const version = 1;
const macBytes = 16;
const payloadBytes = 1 + 1 + 16 + 8 + 16;
const cursorBytes = payloadBytes + macBytes;
const uuidHex = /^[0-9a-f]{32}$/;

const uuidBytes = (uuid: string): Buffer => {
  const hex = uuid.replaceAll('-', '').toLowerCase();
  if (!uuidHex.test(hex)) throw new RangeError(`Not a UUID: ${uuid}`);
  return Buffer.from(hex, 'hex');
};

const uuidOf = (bytes: Buffer): string => {
  const h = bytes.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

const invalidCursor = (why: string) =>
  validationProblem('The cursor is not valid', [{ path: 'cursor', message: why }]);

export class CursorCodec {
  constructor(private readonly key: Buffer) {
    if (key.length < 16) throw new RangeError('a cursor key needs at least 16 bytes');
  }

  private mac(payload: Buffer): Buffer {
    return createHmac('sha256', this.key).update(payload).digest().subarray(0, macBytes);
  }

  encode(kind: ListingKind, subjectId: string, position: KeysetPosition): string {
    if (!Number.isSafeInteger(position.at)) throw new RangeError(`Not a time: ${position.at}`);
    const payload = Buffer.alloc(payloadBytes);
    payload.writeUInt8(version, 0);
    payload.writeUInt8(listingKinds.indexOf(kind), 1);
    uuidBytes(subjectId).copy(payload, 2);
    payload.writeBigInt64BE(BigInt(position.at), 18);
    uuidBytes(position.id).copy(payload, 26);
    return Buffer.concat([payload, this.mac(payload)]).toString('base64url');
  }

  /**
   * The position a cursor of this listing holds. Throws a 400 problem for anything else: not
   * base64url, wrong length or version, a bad signature, or a cursor of another listing.
   */
  decode(kind: ListingKind, subjectId: string, cursor: string): KeysetPosition {
    if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalidCursor('must be a cursor from nextCursor');
    const bytes = Buffer.from(cursor, 'base64url');
    if (bytes.length !== cursorBytes || bytes.toString('base64url') !== cursor)
      throw invalidCursor('must be a cursor from nextCursor');
    const payload = bytes.subarray(0, payloadBytes);
    if (!timingSafeEqual(this.mac(payload), bytes.subarray(payloadBytes)))
      throw invalidCursor('has been altered or was not issued by this service');
    if (payload.readUInt8(0) !== version) throw invalidCursor('is of an unknown version');
    const subject = uuidOf(payload.subarray(2, 18));
    if (listingKinds[payload.readUInt8(1)] !== kind || subject !== subjectId.toLowerCase())
      throw invalidCursor('belongs to another listing');
    const at = Number(payload.readBigInt64BE(18));
    if (!Number.isSafeInteger(at)) throw invalidCursor('holds an impossible position');
    return { at, id: uuidOf(payload.subarray(26, 42)) };
  }
}
