/** What a test sends a service under test: a JSON body, a bearer token, more headers. */
export interface ServiceRequestOptions {
  token?: string | undefined;
  body?: unknown;
  headers?: Record<string, string> | undefined;
  /** Aborts the request after this long; none by default. */
  timeoutMs?: number | undefined;
}

/** The fetch options of one request to a service under test. */
export function serviceRequest(method: string, options: ServiceRequestOptions = {}): RequestInit {
  return {
    method,
    headers: {
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    ...(options.timeoutMs === undefined ? {} : { signal: AbortSignal.timeout(options.timeoutMs) }),
  };
}
