/**
 * Every error the API can answer with, each with its HTTP meaning in one place (RFC 9457
 * problem+json). Handlers throw these; one middleware turns them into responses.
 */
export type ProblemType =
  | 'validation'
  | 'not-found'
  | 'conflict'
  | 'unauthorized'
  | 'forbidden'
  | 'rate-limited'
  | 'payload-too-large'
  | 'unsupported-media-type'
  | 'consistency-timeout'
  | 'unavailable'
  | 'idempotency-key-reused';

export interface FieldError {
  path: string;
  message: string;
}

const titles: Record<ProblemType, [status: number, title: string]> = {
  validation: [400, 'Invalid request'],
  unauthorized: [401, 'Authentication required'],
  forbidden: [403, 'Forbidden'],
  'not-found': [404, 'Not found'],
  conflict: [409, 'Conflict'],
  'idempotency-key-reused': [409, 'Idempotency key reused'],
  'payload-too-large': [413, 'Payload too large'],
  'unsupported-media-type': [415, 'Unsupported media type'],
  'rate-limited': [429, 'Too many requests'],
  unavailable: [503, 'Service unavailable'],
  'consistency-timeout': [503, 'Consistency wait timed out'],
};

export class Problem extends Error {
  override name = 'Problem';
  readonly status: number;
  readonly title: string;

  constructor(
    readonly type: ProblemType,
    readonly detail: string,
    readonly extras: {
      errors?: FieldError[];
      /** Seconds, sent as Retry-After. */
      retryAfter?: number;
      /** Further members of the problem document (e.g. the unfinished task of a 409). */
      members?: Record<string, unknown>;
      headers?: Record<string, string>;
    } = {},
  ) {
    super(detail);
    [this.status, this.title] = titles[type];
  }

  toJSON(): Record<string, unknown> {
    return {
      type: `/problems/${this.type}`,
      title: this.title,
      status: this.status,
      detail: this.detail,
      ...(this.extras.errors ? { errors: this.extras.errors } : {}),
      ...this.extras.members,
    };
  }
}

export const problemTypes = Object.keys(titles) as ProblemType[];

export const validationProblem = (detail: string, errors?: FieldError[]) =>
  new Problem('validation', detail, errors ? { errors } : {});
export const notFound = (detail: string) => new Problem('not-found', detail);
export const conflict = (detail: string, members?: Record<string, unknown>) =>
  new Problem('conflict', detail, members ? { members } : {});
export const unauthorized = (detail = 'A valid bearer token is required') =>
  new Problem('unauthorized', detail, { headers: { 'WWW-Authenticate': 'Bearer' } });
export const forbidden = (detail: string) => new Problem('forbidden', detail);
export const unavailable = (detail: string, retryAfter = 1) =>
  new Problem('unavailable', detail, { retryAfter });
