import {
  DuplicateEventIdError,
  Problem,
  StreamDeletedError,
  unauthorized,
  type ProblemType,
} from '@tweeter/shared';
import type { ErrorRequestHandler } from 'express';
import {
  Conflict,
  DomainError,
  Forbidden,
  IdempotencyKeyReused,
  Invalid,
  NotFound,
  Unauthenticated,
} from '../domain/errors.ts';

/** The one place domain errors become problem+json: the problem type each one answers with. */
export function problemOf(error: DomainError): Problem {
  if (error instanceof Unauthenticated) return unauthorized(error.message);
  return new Problem(problemTypeOf(error), error.message, {
    ...(error instanceof Conflict && error.members ? { members: error.members } : {}),
  });
}

function problemTypeOf(error: DomainError): ProblemType {
  if (error instanceof NotFound) return 'not-found';
  if (error instanceof Forbidden) return 'forbidden';
  if (error instanceof Invalid) return 'validation';
  if (error instanceof IdempotencyKeyReused) return 'idempotency-key-reused';
  if (error instanceof Conflict) return 'conflict';
  throw new Error(`No problem type for ${error.name}`);
}

/**
 * The event store's refusals that a request can cause: a stream removed for good (a hard delete on
 * EventStoreDB) is a resource that is not there; event ids stored by another append are a
 * conflicting write the client may retry.
 */
function storeProblemOf(error: unknown): Problem | null {
  if (error instanceof StreamDeletedError)
    return new Problem('not-found', 'The resource was deleted');
  if (error instanceof DuplicateEventIdError)
    return new Problem('conflict', 'The request conflicts with one stored already; try again');
  return null;
}

/** Installed after the routes, before the shared problem+json handler it hands problems to. */
export const domainErrors: ErrorRequestHandler = (error: unknown, _req, _res, next) => {
  next(error instanceof DomainError ? problemOf(error) : (storeProblemOf(error) ?? error));
};
