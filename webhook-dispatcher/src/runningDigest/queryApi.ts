/** The reads a digest needs from the query service at API_URL (bearer API_TOKEN when set). */
export interface QueryApi {
  /** The profile, or null when no such user exists. */
  userByUsername(
    username: string,
    minPosition?: string | null,
  ): Promise<Record<string, unknown> | null>;
  latestTweets(userId: string, limit: number, minPosition?: string | null): Promise<unknown[]>;
  firstFollowers(userId: string, limit: number, minPosition?: string | null): Promise<unknown[]>;
}

/** A failure to reach the query service or an answer it should not give: worth a retry. */
export class QueryApiError extends Error {
  override name = 'QueryApiError';
}

export function httpQueryApi(baseUrl: string, token: string | undefined, timeoutMs = 10_000) {
  /** `minPosition` is sent as X-Min-Position: the query service answers once it has passed it. */
  const get = async (
    path: string,
    minPosition: string | null | undefined,
  ): Promise<{ status: number; body: unknown }> => {
    let response: Response;
    try {
      response = await fetch(new URL(path, baseUrl), {
        headers: {
          accept: 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(minPosition ? { 'x-min-position': minPosition } : {}),
        },
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new QueryApiError(`query service unreachable: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const text = await response.text();
    let body: unknown = null;
    try {
      body = text === '' ? null : JSON.parse(text);
    } catch {
      throw new QueryApiError(`query service answered ${response.status} with a non-JSON body`);
    }
    return { status: response.status, body };
  };
  const page = async (path: string, minPosition?: string | null): Promise<unknown[]> => {
    const { status, body } = await get(path, minPosition);
    const data = (body as { data?: unknown } | null)?.data;
    if (status !== 200 || !Array.isArray(data))
      throw new QueryApiError(`query service answered ${status} for ${path}`);
    return data as unknown[];
  };
  return {
    async userByUsername(username: string, minPosition?: string | null) {
      const { status, body } = await get(
        `/users/by-username/${encodeURIComponent(username)}`,
        minPosition,
      );
      if (status === 404) return null;
      if (status !== 200 || typeof body !== 'object' || body === null)
        throw new QueryApiError(`query service answered ${status} for the profile`);
      return body as Record<string, unknown>;
    },
    latestTweets: (userId: string, limit: number, minPosition?: string | null) =>
      page(`/users/${encodeURIComponent(userId)}/tweets?limit=${limit}`, minPosition),
    firstFollowers: (userId: string, limit: number, minPosition?: string | null) =>
      page(`/users/${encodeURIComponent(userId)}/followers?limit=${limit}`, minPosition),
  } satisfies QueryApi;
}
