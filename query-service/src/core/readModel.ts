import { unavailable, type Pool } from '@tweeter/shared';
import type { KeysetPosition } from './cursor.ts';

/** A user as the read model holds it. */
export interface UserRecord {
  id: string;
  username: string;
  display_name: string;
  bio: string;
  created_at: Date;
  followers_count: number;
  following_count: number;
  tweet_count: number;
}

/** A listed user with the time of the follow (the keyset). */
export interface FollowRecord {
  id: string;
  username: string;
  display_name: string;
  followed_at: Date;
}

/** A tweet with its author's names. */
export interface TweetRecord {
  id: string;
  author_id: string;
  text: string;
  created_at: Date;
  username: string;
  display_name: string;
}

export interface AuthorRecord {
  id: string;
  username: string;
  display_name: string;
}

// Keyset bounds for a first page: above every real (time, uuid).
const top = { at: 'infinity', id: 'ffffffff-ffff-ffff-ffff-ffffffffffff' };
const bound = (after: KeysetPosition | null): [string, string] =>
  after === null ? [top.at, top.id] : [new Date(after.at).toISOString(), after.id];

/**
 * The read model's queries, each a named (prepared) statement per schema: PostgreSQL plans it once
 * per connection. Every query reads one copy (`schema`, from the active-copy registry). Times are
 * milliseconds throughout the product, so a Date round-trips a keyset position exactly.
 */
export class ReadModel {
  constructor(private readonly pool: Pool) {}

  private async query<R extends object>(
    schema: string,
    name: string,
    text: string,
    values: unknown[],
  ): Promise<R[]> {
    try {
      const result = await this.pool.query<R>({ name: `q_${schema}_${name}`, text, values });
      return result.rows;
    } catch (error) {
      const code = (error as { code?: string }).code;
      // 42P01 undefined table, 3F000 invalid schema: the projector has not created the copy yet.
      if (code === '42P01' || code === '3F000')
        throw unavailable('The read model is not set up yet; try again shortly', 2);
      throw error;
    }
  }

  async userById(schema: string, id: string): Promise<UserRecord | undefined> {
    const rows = await this.query<UserRecord>(
      schema,
      'user_by_id',
      `SELECT id, username, display_name, bio, created_at, followers_count, following_count, tweet_count
       FROM "${schema}".users WHERE id = $1`,
      [id],
    );
    return rows[0];
  }

  async userByUsername(schema: string, username: string): Promise<UserRecord | undefined> {
    const rows = await this.query<UserRecord>(
      schema,
      'user_by_username',
      `SELECT id, username, display_name, bio, created_at, followers_count, following_count, tweet_count
       FROM "${schema}".users WHERE username_lower = lower($1)`,
      [username],
    );
    return rows[0];
  }

  async userExists(schema: string, id: string): Promise<boolean> {
    const rows = await this.query(
      schema,
      'user_exists',
      `SELECT 1 FROM "${schema}".users WHERE id = $1`,
      [id],
    );
    return rows.length > 0;
  }

  /** Who follows `userId`, newest follow first. */
  followers(
    schema: string,
    userId: string,
    after: KeysetPosition | null,
    limit: number,
  ): Promise<FollowRecord[]> {
    return this.query<FollowRecord>(
      schema,
      'followers',
      `SELECT u.id, u.username, u.display_name, f.followed_at
       FROM "${schema}".follows f JOIN "${schema}".users u ON u.id = f.follower_id
       WHERE f.followee_id = $1 AND (f.followed_at, f.follower_id) < ($2::timestamptz, $3::uuid)
       ORDER BY f.followed_at DESC, f.follower_id DESC LIMIT $4`,
      [userId, ...bound(after), limit],
    );
  }

  /** Whom `userId` follows, newest follow first. */
  following(
    schema: string,
    userId: string,
    after: KeysetPosition | null,
    limit: number,
  ): Promise<FollowRecord[]> {
    return this.query<FollowRecord>(
      schema,
      'following',
      `SELECT u.id, u.username, u.display_name, f.followed_at
       FROM "${schema}".follows f JOIN "${schema}".users u ON u.id = f.followee_id
       WHERE f.follower_id = $1 AND (f.followed_at, f.followee_id) < ($2::timestamptz, $3::uuid)
       ORDER BY f.followed_at DESC, f.followee_id DESC LIMIT $4`,
      [userId, ...bound(after), limit],
    );
  }

  /** The tweets of `authorId`, newest first. */
  tweetsBy(
    schema: string,
    authorId: string,
    after: KeysetPosition | null,
    limit: number,
  ): Promise<TweetRecord[]> {
    return this.query<TweetRecord>(
      schema,
      'tweets_by',
      `SELECT t.id, t.author_id, t.text, t.created_at, u.username, u.display_name
       FROM "${schema}".tweets t JOIN "${schema}".users u ON u.id = t.author_id
       WHERE t.author_id = $1 AND (t.created_at, t.id) < ($2::timestamptz, $3::uuid)
       ORDER BY t.created_at DESC, t.id DESC LIMIT $4`,
      [authorId, ...bound(after), limit],
    );
  }

  async tweet(schema: string, id: string): Promise<TweetRecord | undefined> {
    const rows = await this.tweets(schema, [id]);
    return rows[0];
  }

  /** Tweets by id (those that exist), with their authors. */
  tweets(schema: string, ids: readonly string[]): Promise<TweetRecord[]> {
    return this.query<TweetRecord>(
      schema,
      'tweets_by_id',
      `SELECT t.id, t.author_id, t.text, t.created_at, u.username, u.display_name
       FROM "${schema}".tweets t JOIN "${schema}".users u ON u.id = t.author_id
       WHERE t.id = ANY($1::uuid[])`,
      [ids],
    );
  }

  authors(schema: string, ids: readonly string[]): Promise<AuthorRecord[]> {
    return this.query<AuthorRecord>(
      schema,
      'authors',
      `SELECT id, username, display_name FROM "${schema}".users WHERE id = ANY($1::uuid[])`,
      [ids],
    );
  }

  /**
   * The home timeline of `userId` strictly below `below`, from the tables alone: the newest
   * `limit` entries of each followed author (and the user's own) by the (author, time, id) index,
   * merged, and only then the rows of the `limit` that made it. The per-author step reads only the
   * index (an index-only scan: no heap visit for the thousands of candidates), so a page costs
   * about (authors + 1) × limit index entries however long the history, where fan-out-on-read
   * (`author_id IN (…) ORDER BY …`) visits every tweet of every followed author below the cursor.
   * The inner LIMIT also keeps the planner from joining users inside the per-author loop.
   */
  homeTimeline(
    schema: string,
    userId: string,
    below: KeysetPosition | null,
    limit: number,
  ): Promise<TweetRecord[]> {
    return this.query<TweetRecord>(
      schema,
      'home_timeline',
      `SELECT t.id, t.author_id, t.text, t.created_at, u.username, u.display_name
       FROM (
         SELECT x.id FROM (
           SELECT followee_id AS author_id FROM "${schema}".follows WHERE follower_id = $1
           UNION ALL SELECT $1::uuid) a
         CROSS JOIN LATERAL (
           SELECT t.id, t.created_at FROM "${schema}".tweets t
           WHERE t.author_id = a.author_id AND (t.created_at, t.id) < ($2::timestamptz, $3::uuid)
           ORDER BY t.created_at DESC, t.id DESC LIMIT $4) x
         ORDER BY x.created_at DESC, x.id DESC LIMIT $4) top
       JOIN "${schema}".tweets t ON t.id = top.id
       JOIN "${schema}".users u ON u.id = t.author_id
       ORDER BY t.created_at DESC, t.id DESC`,
      [userId, ...bound(below), limit],
    );
  }

  async checkpoint(schema: string): Promise<string | null> {
    const rows = await this.query<{ position: string | null }>(
      schema,
      'checkpoint',
      `SELECT position FROM "${schema}".checkpoint`,
      [],
    );
    return rows[0]?.position ?? null;
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }
}
