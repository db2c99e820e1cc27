import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Response } from 'express';
import { z } from 'zod';
import { validationProblem } from './problems.ts';

/**
 * The pagination kit of every listing of the product: `?limit=&cursor=` in, `{data, nextCursor}`
 * and `Link: <…>; rel="next"` out, with opaque signed cursors.
 *
 * Limits: a whole number from 1 to 100, default 20, the contract documented for the query service
 * (query-service/README.md) and the webhook dispatcher (its OpenAPI document) alike. Until this kit
 * the dispatcher parsed `limit` with `z.coerce.number()`, which also let `1e1`, ` 5` or `0x10`
 * through; one parser now gives every route the documented rule, digits only.
 *
 * Cursors: one mechanism for every service, signed (HMAC-SHA256 with the service's key) and bound
 * to one listing, as the best public APIs hand them out (Stripe, GitHub: opaque tokens a client
 * passes back verbatim). Opaque, because a client that builds or edits cursors would tie us to
 * today's keyset forever; tamper-evident, because a keyset position is otherwise a free index
 * probe into any listing (another owner's subscriptions, another user's followers) and a forged
 * one cannot be told from a stale one. A plain encoding (base64 of an id) would be neither, so
 * there is no plain form: a service without a configured key keeps a generated one in PostgreSQL
 * (`loadServiceSecret`), so instances and restarts accept each other's cursors.
 */

export const defaultPageLimit = 20;
export const maxPageLimit = 100;

/** What a listing request asks for: how many items, and below which position (null: the top). */
export interface PageRequest<P> {
  limit: number;
  after: P | null;
}

const single = (value: unknown, name: string): string | undefined => {
  if (value === undefined) return undefined;
  if (typeof value !== 'string')
    throw validationProblem(`Give ${name} once`, [{ path: name, message: 'must be given once' }]);
  return value;
};

/** `limit` as given in a query string: 1–100, default 20; 400 for anything else. */
export function parsePageLimit(raw: unknown): number {
  const given = single(raw, 'limit');
  if (given === undefined) return defaultPageLimit;
  const limit = /^\d{1,3}$/.test(given) ? Number(given) : NaN;
  if (!(limit >= 1 && limit <= maxPageLimit))
    throw validationProblem('The limit is invalid', [
      { path: 'limit', message: `must be a whole number from 1 to ${maxPageLimit}` },
    ]);
  return limit;
}

/**
 * `limit` and `cursor` of a listing request (an empty cursor is the first page), the cursor
 * decoded by `decode` (which throws its own 400). `only: true` also refuses any other query
 * parameter, as the dispatcher's listings always have (the query service's ignore them).
 */
export function pageRequestOf<P>(
  query: unknown,
  decode: (cursor: string) => P,
  options: { only?: boolean } = {},
): PageRequest<P> {
  const params = (query ?? {}) as Record<string, unknown>;
  if (options.only) {
    const others = Object.keys(params).filter((name) => name !== 'limit' && name !== 'cursor');
    if (others.length > 0)
      throw validationProblem(
        'The query is invalid',
        others.map((name) => ({ path: name, message: 'is not a parameter of this listing' })),
      );
  }
  const cursor = single(params.cursor, 'cursor');
  const limit = parsePageLimit(params.limit);
  return { limit, after: cursor === undefined || cursor === '' ? null : decode(cursor) };
}

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

/**
 * The first `limit` of `limit + 1` rows fetched, and the last of them when more rows exist (the
 * position the next page continues below). The extra row is what tells a full last page from one
 * with a next page.
 */
export function pageWindow<T>(rows: readonly T[], limit: number): { shown: T[]; last: T | null } {
  const shown = rows.slice(0, limit);
  const last = shown.at(-1);
  return { shown, last: rows.length > limit && last !== undefined ? last : null };
}

/** A page from `limit + 1` rows: the items, and the cursor after the last one shown (if any). */
export function pageOf<Row, Item>(
  rows: readonly Row[],
  limit: number,
  toItem: (row: Row) => Item,
  cursorAfter: (row: Row) => string,
): Page<Item> {
  const { shown, last } = pageWindow(rows, limit);
  return { data: shown.map(toItem), nextCursor: last === null ? null : cursorAfter(last) };
}

/** `Link` of a page with a next one: `<path?cursor=…&limit=…>; rel="next"` (relative, as asked). */
export function nextLink(path: string, limit: number, nextCursor: string | null): string | null {
  return nextCursor === null
    ? null
    : `<${path}?cursor=${encodeURIComponent(nextCursor)}&limit=${limit}>; rel="next"`;
}

/** Sets the `Link` header of a page when it has a next one. */
export function setNextLink(
  res: Response,
  path: string,
  limit: number,
  nextCursor: string | null,
): void {
  const link = nextLink(path, limit, nextCursor);
  if (link !== null) res.setHeader('Link', link);
}

/**
 * Sends a page with its `Link`. Written directly rather than through express's `res.json`, which
 * would also hash every body for an ETag: listings that change with every post rarely match a
 * validator, and the hash is a large share of a warm timeline read.
 */
export function sendPage<T>(res: Response, page: Page<T>, path: string, limit: number): void {
  setNextLink(res, path, limit, page.nextCursor);
  const body = JSON.stringify(page);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

/** Query parameters of every listing, for the OpenAPI document. */
export const pageQuerySchema = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(maxPageLimit)
    .optional()
    .meta({ description: `Items per page, 1–${maxPageLimit} (default ${defaultPageLimit})` }),
  cursor: z
    .string()
    .optional()
    .meta({ description: 'Opaque: the nextCursor of the previous page of the same listing' }),
});

/** Response headers of every listing, for the OpenAPI document. */
export const pageHeaders = {
  Link: {
    description: 'Present when there is a next page: `<…?cursor=…&limit=…>; rel="next"`',
    schema: { type: 'string' as const },
  },
};

/** The response schema of a page of `item`, registered as `id`. */
export const pageSchemaOf = <T extends z.ZodType>(item: T, id: string) =>
  z
    .object({
      data: z.array(item),
      nextCursor: z
        .string()
        .nullable()
        .meta({ description: 'Pass as ?cursor= for the next page; null on the last page' }),
    })
    .meta({ id });

// ---------------------------------------------------------------------------------------------
// Cursors

/** How a listing's position is laid out in a cursor: a fixed number of bytes. */
export interface PositionFormat<P> {
  bytes: number;
  write(position: P, into: Buffer, offset: number): void;
  /** The position, or null when the bytes cannot be one. */
  read(from: Buffer, offset: number): P | null;
}

const uuidHex = /^[0-9a-f]{32}$/;

function writeUuid(uuid: string, into: Buffer, offset: number): void {
  const hex = uuid.replaceAll('-', '').toLowerCase();
  if (!uuidHex.test(hex)) throw new RangeError(`Not a UUID: ${uuid}`);
  into.write(hex, offset, 16, 'hex');
}

function readUuid(from: Buffer, offset: number): string {
  const h = from.toString('hex', offset, offset + 16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** A position that is an id alone (UUIDv7 ids are in creation order): 16 bytes. */
export const idPosition: PositionFormat<string> = {
  bytes: 16,
  write: writeUuid,
  read: readUuid,
};

/** A keyset position: the last item of the previous page, by (time desc, id desc). */
export interface KeysetPosition {
  /** Epoch milliseconds (created at, followed at). */
  at: number;
  /** Lower-case UUID of the item. */
  id: string;
}

/** (time ms as a signed 64-bit integer, uuid): 24 bytes. */
export const keysetPosition: PositionFormat<KeysetPosition> = {
  bytes: 8 + 16,
  write(position, into, offset) {
    if (!Number.isSafeInteger(position.at)) throw new RangeError(`Not a time: ${position.at}`);
    into.writeBigInt64BE(BigInt(position.at), offset);
    writeUuid(position.id, into, offset + 8);
  },
  read(from, offset) {
    const at = Number(from.readBigInt64BE(offset));
    return Number.isSafeInteger(at) ? { at, id: readUuid(from, offset + 8) } : null;
  },
};

const cursorVersion = 1;
const macBytes = 16;
const headerBytes = 1 + 1 + 16;

const invalidCursor = (why: string) =>
  validationProblem('The cursor is not valid', [{ path: 'cursor', message: why }]);

/**
 * Signed cursors of one service's listings. Binary, then base64url:
 *
 *   version (1) | listing (1) | subject uuid (16) | position (format.bytes) | HMAC (16)
 *
 * The listing is the index of `kinds` (which route), the subject whose listing it is (a user, a
 * subscription). The HMAC (SHA-256, truncated to 128 bits as RFC 2104 allows) covers every byte
 * before it, so a client can neither forge a position nor replay a cursor on another listing.
 */
export class SignedCursors<Kind extends string, P> {
  private readonly payloadBytes: number;

  constructor(
    private readonly key: Buffer,
    private readonly kinds: readonly Kind[],
    private readonly format: PositionFormat<P>,
  ) {
    if (key.length < 16) throw new RangeError('a cursor key needs at least 16 bytes');
    this.payloadBytes = headerBytes + format.bytes;
  }

  private mac(payload: Buffer): Buffer {
    return createHmac('sha256', this.key).update(payload).digest().subarray(0, macBytes);
  }

  encode(kind: Kind, subjectId: string, position: P): string {
    const payload = Buffer.alloc(this.payloadBytes);
    payload.writeUInt8(cursorVersion, 0);
    payload.writeUInt8(this.kinds.indexOf(kind), 1);
    writeUuid(subjectId, payload, 2);
    this.format.write(position, payload, headerBytes);
    return Buffer.concat([payload, this.mac(payload)]).toString('base64url');
  }

  /**
   * The position a cursor of this listing holds. Throws a 400 problem for anything else: not
   * base64url, wrong length or version, a bad signature, or a cursor of another listing.
   */
  decode(kind: Kind, subjectId: string, cursor: string): P {
    if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalidCursor('must be a cursor from nextCursor');
    const bytes = Buffer.from(cursor, 'base64url');
    if (bytes.length !== this.payloadBytes + macBytes || bytes.toString('base64url') !== cursor)
      throw invalidCursor('must be a cursor from nextCursor');
    const payload = bytes.subarray(0, this.payloadBytes);
    if (!timingSafeEqual(this.mac(payload), bytes.subarray(this.payloadBytes)))
      throw invalidCursor('has been altered or was not issued by this service');
    if (payload.readUInt8(0) !== cursorVersion) throw invalidCursor('is of an unknown version');
    if (
      this.kinds[payload.readUInt8(1)] !== kind ||
      readUuid(payload, 2) !== subjectId.toLowerCase()
    )
      throw invalidCursor('belongs to another listing');
    const position = this.format.read(payload, headerBytes);
    if (position === null) throw invalidCursor('holds an impossible position');
    return position;
  }
}
