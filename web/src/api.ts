/**
 * The services as the web client sees them: commands under /api/command, reads under /api/query
 * (the web server forwards both, so the page, the API and the stream share one origin). Errors
 * come back as the services' problem+json, whose `detail` is shown to the person in words.
 */

export interface Session {
  id: string;
  username: string;
  token: string;
}

export interface Tweet {
  id: string;
  authorId: string;
  text: string;
  createdAt: string;
  author: { id: string; username: string; displayName: string };
}

export interface Profile {
  id: string;
  username: string;
  displayName: string;
  bio: string;
  createdAt: string;
  followersCount: number;
  followingCount: number;
  tweetCount: number;
}

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

/** A refused or failed request, with the sentence to show. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The newest X-Event-Position of this tab's own writes: its reads wait for it (read-your-writes). */
let lastPosition: string | null = null;

async function call<T>(
  service: 'command' | 'query',
  method: string,
  path: string,
  { token, body, fresh }: { token?: string; body?: unknown; fresh?: boolean } = {},
): Promise<{ body: T; position: string | null }> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (fresh && lastPosition) headers['x-min-position'] = lastPosition;
  let response: Response;
  try {
    response = await fetch(`/api/${service}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'The service cannot be reached. Check your connection and try again.');
  }
  const text = await response.text();
  const parsed = text ? (JSON.parse(text) as unknown) : undefined;
  if (!response.ok) {
    const problem = parsed as { detail?: string; title?: string; errors?: { message: string }[] };
    const detail = problem?.errors?.length
      ? `${problem.detail ?? problem.title}: ${problem.errors.map((e) => e.message).join('; ')}`
      : (problem?.detail ?? problem?.title ?? `The request failed (${response.status}).`);
    throw new ApiError(response.status, detail);
  }
  const position = response.headers.get('x-event-position');
  if (position && (lastPosition === null || position > lastPosition)) lastPosition = position;
  return { body: parsed as T, position };
}

export const api = {
  signUp: (username: string) =>
    call<Profile & { token: string }>('command', 'POST', '/users', { body: { username } }),
  post: (s: Session, text: string) =>
    call<Omit<Tweet, 'author'>>('command', 'POST', '/tweets', { token: s.token, body: { text } }),
  deleteTweet: (s: Session, id: string) =>
    call<void>('command', 'DELETE', `/tweets/${id}`, { token: s.token }),
  follow: (s: Session, id: string) =>
    call<void>('command', 'PUT', `/users/${s.id}/following/${id}`, { token: s.token }),
  unfollow: (s: Session, id: string) =>
    call<void>('command', 'DELETE', `/users/${s.id}/following/${id}`, { token: s.token }),
  profile: (id: string) => call<Profile>('query', 'GET', `/users/${id}`, { fresh: true }),
  profileByName: (username: string) =>
    call<Profile>('query', 'GET', `/users/by-username/${encodeURIComponent(username)}`, {
      fresh: true,
    }),
  timeline: (s: Session, cursor: string | null) =>
    call<Page<Tweet>>('query', 'GET', `/users/${s.id}/timeline${query(cursor)}`, {
      token: s.token,
      fresh: true,
    }),
  tweetsOf: (id: string, cursor: string | null) =>
    call<Page<Tweet>>('query', 'GET', `/users/${id}/tweets${query(cursor)}`, { fresh: true }),
  following: (id: string, cursor: string | null) =>
    call<Page<{ id: string }>>('query', 'GET', `/users/${id}/following${query(cursor, 100)}`, {
      fresh: true,
    }),
};

const query = (cursor: string | null, limit = 20) =>
  `?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;

/** The user id inside a token (`mt_<32 hex>_<secret>`), or null for something else. */
export function userIdOfToken(token: string): string | null {
  const m = /^mt_([0-9a-f]{32})_[A-Za-z0-9_-]{43}$/.exec(token.trim());
  if (!m) return null;
  const h = m[1]!;
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** What the server counts: code points after NFC (280 at most). */
export const tweetLength = (text: string) => [...text.normalize('NFC')].length;
export const maxTweetLength = 280;
