/**
 * A failure the operator can act on: printed as one line (no stack trace) with its exit code.
 * Anything else that escapes a command is turned into one line too, but names its cause.
 */
export class AdminError extends Error {
  override name = 'AdminError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** One readable line for an error from a dependency (connection refused, unknown host, …). */
export function describeError(error: unknown): string {
  if (error instanceof AdminError) return error.message;
  const e = error as { code?: string; message?: string; errors?: unknown[]; address?: string };
  // pg and ioredis report a refused connection to several addresses as an AggregateError.
  if (e?.code === 'ECONNREFUSED') return `connection refused${e.address ? ` by ${e.address}` : ''}`;
  if (error instanceof AggregateError && error.errors.length > 0)
    return describeError(error.errors[0]);
  if (e?.code === 'ENOTFOUND') return `unknown host: ${e.message ?? ''}`.trim();
  if (e?.code === '3D000') return e.message ?? 'database does not exist';
  return e?.message ?? String(error);
}
