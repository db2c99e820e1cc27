import { createHash } from 'node:crypto';
import {
  parseOr400,
  WrongExpectedRevisionError,
  type EventMetadata,
  type EventStore,
  type Position,
} from '@tweeter/shared';
import type { Request } from 'express';
import { v5 as uuidv5 } from 'uuid';
import { z } from 'zod';
import { IdempotencyKeyReused } from '../domain/errors.ts';
import { idempotencyStreamId } from './streams.ts';

/** Namespace of every id this service derives with UUIDv5. */
const namespace = '6f1d3c52-9a0e-4c8b-b7d2-3e5a1f0c9d47';

export const idempotencyKeyHeader = z
  .string()
  .regex(/^[\x21-\x7E]{1,255}$/, 'must be 1–255 printable ASCII characters without spaces')
  .meta({
    description:
      'Makes a retry safe: a repeat by the same caller with the same key and body answers the same ' +
      'status and body and appends nothing; the same key with another body is refused with 409 ' +
      '/problems/idempotency-key-reused. A key is bound to the first request accepted with it. A ' +
      'refused request (4xx) binds nothing and stores nothing: its retry is decided afresh, so it ' +
      'gets the same refusal while the reason holds. Keys never expire.',
    example: '5d2c7a3e-0c1b-4f7e-9a55-8e2d1c3b4a69',
  });

/** The OpenAPI headers of a route that takes an Idempotency-Key. */
export const idempotencyHeaders = z.object({ 'Idempotency-Key': idempotencyKeyHeader.optional() });

/** The request's Idempotency-Key, if it sent one (400 when malformed). */
export function idempotencyKeyOf(req: Request): string | undefined {
  const header = req.headers['idempotency-key'];
  return header === undefined
    ? undefined
    : parseOr400(idempotencyKeyHeader, header, 'Idempotency-Key header');
}

/**
 * Internal: the first event of an idempotency stream. Holds what is needed to redo the command and
 * rebuild its response: a hash of the request and the values the command planned (ids, times).
 * Not part of the public catalogue; projections skip it.
 */
export type IdempotencyKeyRecorded = {
  type: 'IdempotencyKeyRecorded';
  data: { route: string; requestHash: string; plan: Record<string, string> };
};

const recordSchema = z.object({
  route: z.string(),
  requestHash: z.string(),
  plan: z.record(z.string(), z.string()),
});

/** Hash of a validated request, independent of key order and formatting of the JSON sent. */
export function requestHash(request: unknown): string {
  return createHash('sha256').update(canonicalJson(request)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** A key as its caller sent it on one route: what a record is looked up by. */
export interface IdempotencyKeyUse {
  /** The caller's user id, or 'anonymous' for sign-up. */
  caller: string;
  route: string;
  key: string;
  requestHash: string;
}

export interface IdempotentRequest<P extends Record<string, string>> extends IdempotencyKeyUse {
  /** Values (ids, times) for a first execution; a repeat gets the recorded ones instead. */
  plan: P;
}

/** Where the record of a key lives, and the event ids derived from it. */
export interface IdempotencyScope {
  /** UUIDv5 of caller, route and key: two callers' keys never meet. */
  id: string;
  streamId: string;
  /** Derives an event id from the key, so a redone append is recognised as already stored. */
  eventId: (name: string) => string;
}

export function idempotencyScope(
  use: Pick<IdempotencyKeyUse, 'caller' | 'route' | 'key'>,
): IdempotencyScope {
  const id = uuidv5(`${use.caller}\n${use.route}\n${use.key}`, namespace);
  return {
    id,
    streamId: idempotencyStreamId(id),
    eventId: (name: string) => uuidv5(`${id}:${name}`, namespace),
  };
}

export interface IdempotencyClaim<P> {
  plan: P;
  /** Where the key's record is in the log: whatever the plan appends comes after it. */
  recordedAt: Position;
  /** Derives an event id from the key, so a redone append is recognised as already stored. */
  eventId: (name: string) => string;
}

/**
 * The plan recorded by an earlier accepted use of the key, or null when none is recorded. Throws
 * 409 idempotency-key-reused when the key was accepted with another request. Appends nothing.
 */
export async function findIdempotencyClaim<P extends Record<string, string>>(
  eventStore: EventStore,
  use: IdempotencyKeyUse,
): Promise<IdempotencyClaim<P> | null> {
  const scope = idempotencyScope(use);
  const recorded = await readRecord(eventStore, scope.streamId);
  if (recorded === null) return null;
  if (recorded.requestHash !== use.requestHash) throw new IdempotencyKeyReused();
  return { plan: recorded.plan as P, recordedAt: recorded.position, eventId: scope.eventId };
}

/**
 * Records the key (first use) or returns the plan recorded by its first use (repeat). The record
 * is appended expecting no stream, so of two concurrent first uses exactly one records its plan
 * and both then execute that one plan with the same derived event ids.
 *
 * Appending is what makes it safe against concurrent repeats, and also why it must only run once
 * the command is accepted: a refused request (any 4xx) appends nothing, ever. postTweet claims
 * first because nothing after its claim can refuse (validation, authentication and the rate limit
 * ran before it, and a fresh tweet id cannot clash); createUser claims only once the username is
 * its own (see creatingUser/handler.ts).
 */
export async function claimIdempotencyKey<P extends Record<string, string>>(
  eventStore: EventStore,
  request: IdempotentRequest<P>,
  metadata: EventMetadata,
  recordId: string,
): Promise<IdempotencyClaim<P>> {
  const { streamId, eventId } = idempotencyScope(request);
  const record: IdempotencyKeyRecorded = {
    type: 'IdempotencyKeyRecorded',
    data: { route: request.route, requestHash: request.requestHash, plan: request.plan },
  };
  try {
    // The record's own id is random on purpose: a derived one would make the store treat a
    // second, different request as a harmless duplicate instead of a conflict.
    const { position } = await eventStore.append(
      streamId,
      [{ id: recordId, ...record, metadata }],
      { expectedRevision: 'no_stream' },
    );
    return { plan: request.plan, recordedAt: position, eventId };
  } catch (error) {
    if (!(error instanceof WrongExpectedRevisionError)) throw error;
  }
  const recorded = await readRecord(eventStore, streamId);
  if (recorded?.requestHash !== request.requestHash) throw new IdempotencyKeyReused();
  return { plan: recorded.plan as P, recordedAt: recorded.position, eventId };
}

async function readRecord(eventStore: EventStore, streamId: string) {
  const [first] = await eventStore.readStream(streamId, { maxCount: 1 });
  return first === undefined
    ? null
    : { ...recordSchema.parse(first.data), position: first.position };
}
