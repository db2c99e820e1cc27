import {
  CancelledError,
  DeadlineExceededError,
  NotLeaderError,
  TimeoutError,
  UnavailableError,
} from '@eventstore/db-client';

/**
 * What an error of the EventStoreDB client means for the product.
 *  - `unavailable`: the server or cluster cannot answer now (connection refused or lost, a restart,
 *    a leader change, a deadline, a server-side timeout, failed discovery). Wait and retry: a
 *    projection waits, a request answers 503. The client reconnects on the next call by itself
 *    (to the new leader on NotLeaderError), but a subscription it dropped stays dropped: the
 *    subscriber subscribes again from its checkpoint.
 *  - null: anything else (access denied, a deleted stream, a bug): not retried.
 *
 * The client's error classes set no `name` (every one is "Error"), so they are recognised by
 * class, by their `type` string (the same across copies of the library) and, for gRPC errors the
 * client did not convert, by the numeric gRPC status `code`.
 */
export type EventStoreDbErrorKind = 'unavailable';

/** gRPC status codes that mean "not now" (grpc-js `status`): CANCELLED (by the server), DEADLINE_EXCEEDED, ABORTED, UNAVAILABLE. */
const transientGrpcCodes = new Set([1, 4, 10, 14]);

/** The client's `ErrorType` values of the same errors. */
const transientTypes = new Set([
  'unavailable',
  'not-leader',
  'deadline-exceeded',
  'timeout',
  'cancelled',
]);

export function classifyEventStoreDbError(error: unknown): EventStoreDbErrorKind | null {
  if (
    error instanceof UnavailableError ||
    error instanceof NotLeaderError ||
    error instanceof DeadlineExceededError ||
    error instanceof TimeoutError ||
    error instanceof CancelledError
  )
    return 'unavailable';
  if (typeof error !== 'object' || error === null) return null;
  const e = error as { type?: unknown; code?: unknown; details?: unknown; message?: unknown };
  if (typeof e.type === 'string' && transientTypes.has(e.type)) return 'unavailable';
  // A raw grpc-js ServiceError: numeric code plus `details`.
  if (typeof e.code === 'number' && typeof e.details === 'string' && transientGrpcCodes.has(e.code))
    // "Cancelled on client" is our own cancel(), never an outage.
    return e.code === 1 && e.details === 'Cancelled on client' ? null : 'unavailable';
  // Cluster discovery (esdb+discover://, several hosts) found no usable node: a plain Error.
  if (typeof e.message === 'string' && /^Failed to discover after \d+ attempts\.$/.test(e.message))
    return 'unavailable';
  return null;
}

/** Whether a client error means EventStoreDB is unavailable for now (wait and retry; 503). */
export function isEventStoreDbUnavailable(error: unknown): boolean {
  return classifyEventStoreDbError(error) === 'unavailable';
}
