import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

/**
 * The read-model tables (projection `read-model`): what the projector writes and the query service
 * reads (through `Kysely<ReadModelDatabase>`). Every column matches the projector's DDL in
 * projector/src/readModel/migrations.ts exactly (uuid and text as string, timestamptz as Date,
 * integer as number, defaults as `Generated`): change both together. Every copy of the read model
 * lives in a PostgreSQL schema of its own (default `read_model`); which copy readers use is in
 * `projections.active_copies` (see activeCopies.ts). Query with
 * `db.withSchema(schema).selectFrom('users')…`.
 *
 * Invariants once the projection has caught up:
 * - a deleted user has no row, no follow edge in either direction and no tweet;
 * - the counters equal the counts of the rows (followers = edges to the user, following = edges
 *   from the user, tweet_count = the user's tweets);
 * - a deleted tweet has no row.
 */

export interface UsersTable {
  id: string;
  username: string;
  /** lower(username): unique, for case-insensitive look-ups. */
  username_lower: string;
  display_name: string;
  bio: string;
  created_at: ColumnType<Date, Date | string, never>;
  followers_count: Generated<number>;
  following_count: Generated<number>;
  tweet_count: Generated<number>;
}

/**
 * One row per live follow edge. Indexes: primary key (follower_id, followee_id);
 * (follower_id, followed_at desc, followee_id desc) for "following" pages;
 * (followee_id, followed_at desc, follower_id desc) for "followers" pages.
 */
export interface FollowsTable {
  follower_id: string;
  followee_id: string;
  followed_at: ColumnType<Date, Date | string, Date | string>;
}

/**
 * One row per live tweet. Indexes: primary key (id); (author_id, created_at desc, id desc), which
 * serves a user's tweets and the home-timeline tail (per followed author, keyset by
 * (created_at, id) desc, merged; see docs/projections.md).
 */
export interface TweetsTable {
  id: string;
  author_id: string;
  text: string;
  created_at: ColumnType<Date, Date | string, never>;
}

/** The position of the last event applied to this copy (one row). */
export interface ReadModelCheckpointTable {
  id: ColumnType<boolean, boolean | undefined, never>;
  position: string | null;
}

export interface ReadModelDatabase {
  users: UsersTable;
  follows: FollowsTable;
  tweets: TweetsTable;
  checkpoint: ReadModelCheckpointTable;
}

export type UserRow = Selectable<UsersTable>;
export type NewUserRow = Insertable<UsersTable>;
export type FollowRow = Selectable<FollowsTable>;
export type NewFollowRow = Insertable<FollowsTable>;
export type TweetRow = Selectable<TweetsTable>;
export type NewTweetRow = Insertable<TweetsTable>;

/** The schema of the first copy of the read model. */
export const defaultReadModelSchema = 'read_model';

/** Schema names of read-model copies: a plain identifier, safe to splice into DDL. */
export function isReadModelSchemaName(name: string): boolean {
  return /^[a-z_][a-z0-9_]{0,62}$/.test(name);
}
