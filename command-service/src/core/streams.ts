/**
 * Stream names. Streams are kept small so a command reads little: one per user, tweet, follow
 * edge, username reservation and idempotency key. The user stream's name is `userStreamId` in
 * `@tweeter/shared`, next to the token rule, since every service reads it to check tokens.
 */
export const tweetStreamId = (tweetId: string) => `tweet-${tweetId}`;
export const followStreamId = (followerId: string, followeeId: string) =>
  `follow-${followerId}-${followeeId}`;
/** Usernames are unique case-insensitively, so the reservation is keyed by the lowercased name. */
export const usernameStreamId = (username: string) => `username-${username.toLowerCase()}`;
export const idempotencyStreamId = (scopeId: string) => `idempotency-${scopeId}`;

/** The part of a stream name before the first dash: a bounded metrics label. */
export const streamCategory = (streamId: string) => streamId.split('-', 1)[0] ?? 'unknown';
