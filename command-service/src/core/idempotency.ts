import { createHash } from 'node:crypto';
import {
  Problem,
  WrongExpectedRevisionError,
  type EventMetadata,
  type EventStore,
} from '@tweeter/shared';
import { v5 as uuidv5 } from 'uuid';
import { z } from 'zod';
import { idempotencyStream } from './streams.ts';

/** Namespace of every id this service derives with UUIDv5. */
const namespace = '6f1d3c52-9a0e-4c8b-b7d2-3e5a1f0c9d47';

export const idempotencyKeyHeader = z
  .string()
  .regex(/^[\x21-\x7E]{1,255}$/, 'must be 1–255 printable ASCII characters without spaces')
  .meta({
    description:
      'Makes a retry safe: a repeat by the same caller with the same key and body answers the same ' +
      'status and body and appends nothing; the same key with another body is refused with 409 ' +
      '/problems/idempotency-key-reused. A key stays bound to the first body it was used with, ' +
      'even when that request failed. Keys never expire.',
    example: '5d2c7a3e-0c1b-4f7e-9a55-8e2d1c3b4a69',
  });

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

export interface IdempotentRequest<P extends Record<string, string>> {
  /** The caller's user id, or 'anonymous' for sign-up. */
  caller: string;
  route: string;
  key: string;
  requestHash: string;
  /** Values (ids, times) for a first execution; a repeat gets the recorded ones instead. */
  plan: P;
}

export interface IdempotencyClaim<P> {
  plan: P;
  /** Derives an event id from the key, so a redone append is recognised as already stored. */
  eventId: (name: string) => string;
}

/**
 * Records the key (first use) or returns the plan recorded by its first use (repeat). The record
 * is appended expecting no stream, so of two concurrent first uses exactly one records its plan
 * and both then execute that one plan with the same derived event ids.
 */
export async function claimIdempotencyKey<P extends Record<string, string>>(
  eventStore: EventStore,
  request: IdempotentRequest<P>,
  metadata: EventMetadata,
  recordId: string,
): Promise<IdempotencyClaim<P>> {
  const scopeId = uuidv5(`${request.caller}\n${request.route}\n${request.key}`, namespace);
  const streamId = idempotencyStream(scopeId);
  const eventId = (name: string) => uuidv5(`${scopeId}:${name}`, namespace);
  const record: IdempotencyKeyRecorded = {
    type: 'IdempotencyKeyRecorded',
    data: { route: request.route, requestHash: request.requestHash, plan: request.plan },
  };
  try {
    // The record's own id is random on purpose: a derived one would make the store treat a
    // second, different request as a harmless duplicate instead of a conflict.
    await eventStore.append(streamId, [{ id: recordId, ...record, metadata }], {
      expectedRevision: 'no_stream',
    });
    return { plan: request.plan, eventId };
  } catch (error) {
    if (!(error instanceof WrongExpectedRevisionError)) throw error;
  }
  const [first] = await eventStore.readStream(streamId, { maxCount: 1 });
  const recorded = recordSchema.parse(first?.data);
  if (recorded.requestHash !== request.requestHash)
    throw new Problem(
      'idempotency-key-reused',
      'This Idempotency-Key was already used with a different request',
    );
  return { plan: recorded.plan as P, eventId };
}
