import { DuplicateEventIdError, Problem, StreamDeletedError } from '@tweeter/shared';
import type { Request, Response } from 'express';
import { describe, expect, it } from 'vitest';
import { NotFound } from '../domain/errors.ts';
import { domainErrors } from './problems.ts';

const handed = (error: unknown): unknown => {
  let next: unknown;
  domainErrors(error, {} as Request, {} as Response, (e?: unknown) => (next = e));
  return next;
};

describe('the errors a command can end in', () => {
  it('become problems: domain refusals, a deleted stream (404), a duplicate event id (409)', () => {
    expect(handed(new NotFound('No such user'))).toMatchObject({ type: 'not-found', status: 404 });
    const deleted = handed(new StreamDeletedError('user-1'));
    expect(deleted).toBeInstanceOf(Problem);
    expect(deleted).toMatchObject({ type: 'not-found', status: 404 });
    expect(handed(new DuplicateEventIdError('user-1', ['e1']))).toMatchObject({
      type: 'conflict',
      status: 409,
    });
  });

  it('leaves anything else to the shared handler (503 for outages, 500 for bugs)', () => {
    const bug = new TypeError('x is undefined');
    expect(handed(bug)).toBe(bug);
  });
});
