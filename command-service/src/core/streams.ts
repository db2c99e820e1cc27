/**
 * Stream names. Streams are kept small so a command reads little: one per user, tweet, follow
 * edge, username reservation and idempotency key.
 */
export const userStream = (userId: string) => `user-${userId}`;
export const tweetStream = (tweetId: string) => `tweet-${tweetId}`;
export const followStream = (followerId: string, followeeId: string) =>
  `follow-${followerId}-${followeeId}`;
/** Usernames are unique case-insensitively, so the reservation is keyed by the lowercased name. */
export const usernameStream = (username: string) => `username-${username.toLowerCase()}`;
export const idempotencyStream = (scopeId: string) => `idempotency-${scopeId}`;

/** The part of a stream name before the first dash: a bounded metrics label. */
export const streamCategory = (streamId: string) => streamId.split('-', 1)[0] ?? 'unknown';
