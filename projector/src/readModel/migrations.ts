import { sql, type Kysely, type Migration } from 'kysely';

/**
 * The read model's migrations, parameterised by the copy's schema so that a rebuild can create a
 * second copy beside the live one. Each copy keeps its migration history inside its own schema.
 */
export function readModelMigrations(schema: string): Record<string, Migration> {
  const s = sql.id(schema);
  return {
    '2026-11-24T15-00-00_initial': {
      async up(db: Kysely<unknown>) {
        await sql`
          CREATE TABLE ${s}.users (
            id uuid PRIMARY KEY,
            username text NOT NULL,
            username_lower text NOT NULL UNIQUE,
            display_name text NOT NULL,
            bio text NOT NULL,
            created_at timestamptz NOT NULL,
            followers_count integer NOT NULL DEFAULT 0,
            following_count integer NOT NULL DEFAULT 0,
            tweet_count integer NOT NULL DEFAULT 0
          )`.execute(db);
        await sql`
          CREATE TABLE ${s}.follows (
            follower_id uuid NOT NULL,
            followee_id uuid NOT NULL,
            followed_at timestamptz NOT NULL,
            PRIMARY KEY (follower_id, followee_id)
          )`.execute(db);
        // Listing pages, newest follow first, keyset by (followed_at, other id).
        await sql`CREATE INDEX follows_following_page ON ${s}.follows (follower_id, followed_at DESC, followee_id DESC)`.execute(
          db,
        );
        await sql`CREATE INDEX follows_followers_page ON ${s}.follows (followee_id, followed_at DESC, follower_id DESC)`.execute(
          db,
        );
        await sql`
          CREATE TABLE ${s}.tweets (
            id uuid PRIMARY KEY,
            author_id uuid NOT NULL,
            text text NOT NULL,
            created_at timestamptz NOT NULL
          )`.execute(db);
        // A user's tweets and the home-timeline tail (per followed author, merged): keyset desc.
        await sql`CREATE INDEX tweets_author_page ON ${s}.tweets (author_id, created_at DESC, id DESC)`.execute(
          db,
        );
        await sql`
          CREATE TABLE ${s}.checkpoint (
            id boolean PRIMARY KEY DEFAULT true CHECK (id),
            position text
          )`.execute(db);
        await sql`INSERT INTO ${s}.checkpoint (id, position) VALUES (true, NULL)`.execute(db);
      },
      async down(db: Kysely<unknown>) {
        for (const table of ['checkpoint', 'tweets', 'follows', 'users'])
          await sql`DROP TABLE IF EXISTS ${s}.${sql.id(table)}`.execute(db);
      },
    },
  };
}
