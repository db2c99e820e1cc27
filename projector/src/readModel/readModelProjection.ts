import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type pg from 'pg';
import {
  createKysely,
  inTransaction,
  isReadModelSchemaName,
  lockSchemaInTransaction,
  migrate,
  type DecodedEvent,
  type Position,
} from '@tweeter/shared';
import { CheckpointMovedError, type CopiedProjection } from '../runtime/projection.ts';
import {
  foldReadModel,
  pairKey,
  referencesOf,
  type ReadModelChanges,
  type TouchedState,
} from './fold.ts';
import { readModelMigrations } from './migrations.ts';

/**
 * `read-model` → PostgreSQL. One transaction per batch: compare-and-set the checkpoint (a fence
 * against a stale writer), load the touched state, fold, write the net changes set-based.
 */
export class ReadModelProjection implements CopiedProjection {
  readonly name = 'read-model' as const;
  private readonly db: Kysely<unknown>;
  private readonly s: string;
  /** Prefix of prepared statement names: short, so that names stay within PostgreSQL's 63 bytes. */
  private readonly stmt: string;

  constructor(
    private readonly pool: pg.Pool,
    /** The copy: the schema this instance writes to. */
    readonly copy: string,
  ) {
    if (!isReadModelSchemaName(copy)) throw new RangeError(`Not a read-model schema name: ${copy}`);
    this.db = createKysely(pool);
    this.s = `"${copy}"`;
    this.stmt = `rm_${createHash('sha1').update(copy).digest('hex').slice(0, 10)}`;
  }

  async setup(): Promise<void> {
    // The copy's schema is created by the migrator, which keeps its tables in it.
    await migrate(this.pool, `read-model ${this.copy}`, readModelMigrations(this.copy), {
      schema: this.copy,
    });
  }

  async checkpoint(): Promise<Position | null> {
    const { rows } = await this.pool.query<{ position: string | null }>(
      `SELECT position FROM ${this.s}.checkpoint`,
    );
    return (rows[0]?.position ?? null) as Position | null;
  }

  async apply(events: DecodedEvent[], upTo: Position, from: Position | null): Promise<void> {
    // Without waiting for the WAL flush: a server crash may lose the newest batches, but each
    // together with its checkpoint, so they are simply applied again from the log. Atomicity,
    // not durability, is what a projection needs, and replays stop paying an fsync per batch.
    await inTransaction(this.pool, 'BEGIN; SET LOCAL synchronous_commit = off', async (client) => {
      // First, so that a concurrent writer of this copy waits here, then finds the position moved.
      const cas = await client.query({
        name: `${this.stmt}_cas`,
        text: `UPDATE ${this.s}.checkpoint SET position = $2 WHERE position IS NOT DISTINCT FROM $1`,
        values: [from, upTo],
      });
      if (cas.rowCount !== 1) {
        const { rows } = await client.query<{ position: Position | null }>(
          `SELECT position FROM ${this.s}.checkpoint`,
        );
        throw new CheckpointMovedError(this.name, from, rows[0]?.position ?? null);
      }
      if (events.length > 0) {
        const state = await this.load(client, events);
        await this.write(client, foldReadModel(events, state));
      }
    });
  }

  private async load(client: pg.PoolClient, events: DecodedEvent[]): Promise<TouchedState> {
    const refs = referencesOf(events);
    const state: TouchedState = { users: new Set(), edges: new Map(), tweets: new Map() };
    const users = await client.query<{ id: string }>({
      name: `${this.stmt}_load_users`,
      text: `SELECT id FROM ${this.s}.users WHERE id = ANY($1::uuid[])`,
      values: [refs.userIds],
    });
    for (const row of users.rows) state.users.add(row.id);
    if (refs.pairs.length > 0) {
      const edges = await client.query<{ a: string; b: string; at: string }>({
        name: `${this.stmt}_load_edges`,
        text: `SELECT f.follower_id AS a, f.followee_id AS b, f.followed_at::text AS at
               FROM ${this.s}.follows f
               JOIN unnest($1::uuid[], $2::uuid[]) AS p(a, b) ON f.follower_id = p.a AND f.followee_id = p.b`,
        values: [refs.pairs.map((p) => p[0]), refs.pairs.map((p) => p[1])],
      });
      for (const row of edges.rows) state.edges.set(pairKey(row.a, row.b), row.at);
    }
    if (refs.tweetIds.length > 0) {
      const tweets = await client.query<{ id: string; author_id: string }>({
        name: `${this.stmt}_load_tweets`,
        text: `SELECT id, author_id FROM ${this.s}.tweets WHERE id = ANY($1::uuid[])`,
        values: [refs.tweetIds],
      });
      for (const row of tweets.rows) state.tweets.set(row.id, row.author_id);
    }
    return state;
  }

  private async write(client: pg.PoolClient, c: ReadModelChanges): Promise<void> {
    const q = (name: string, text: string, values: unknown[]) =>
      client.query({ name: `${this.stmt}_${name}`, text, values });
    if (c.insertUsers.length > 0) {
      const u = c.insertUsers;
      await q(
        'insert_users',
        `INSERT INTO ${this.s}.users (id, username, username_lower, display_name, bio, created_at)
         SELECT id, username, lower(username), display_name, bio, created_at
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::timestamptz[])
           AS v(id, username, display_name, bio, created_at)`,
        [
          u.map((x) => x.id),
          u.map((x) => x.username),
          u.map((x) => x.displayName),
          u.map((x) => x.bio),
          u.map((x) => x.createdAt),
        ],
      );
    }
    if (c.updateProfiles.length > 0) {
      const p = c.updateProfiles;
      await q(
        'update_profiles',
        `UPDATE ${this.s}.users u SET display_name = coalesce(v.display_name, u.display_name),
           bio = coalesce(v.bio, u.bio)
         FROM unnest($1::uuid[], $2::text[], $3::text[]) AS v(id, display_name, bio) WHERE u.id = v.id`,
        [p.map((x) => x.id), p.map((x) => x.displayName), p.map((x) => x.bio)],
      );
    }
    if (c.upsertEdges.length > 0) {
      const e = c.upsertEdges;
      await q(
        'upsert_edges',
        `INSERT INTO ${this.s}.follows (follower_id, followee_id, followed_at)
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[])
         ON CONFLICT (follower_id, followee_id) DO UPDATE SET followed_at = excluded.followed_at`,
        [e.map((x) => x.followerId), e.map((x) => x.followeeId), e.map((x) => x.followedAt)],
      );
    }
    if (c.deleteEdges.length > 0) {
      const e = c.deleteEdges;
      await q(
        'delete_edges',
        `DELETE FROM ${this.s}.follows f USING unnest($1::uuid[], $2::uuid[]) AS v(a, b)
         WHERE f.follower_id = v.a AND f.followee_id = v.b`,
        [e.map((x) => x.followerId), e.map((x) => x.followeeId)],
      );
    }
    if (c.insertTweets.length > 0) {
      const t = c.insertTweets;
      await q(
        'insert_tweets',
        `INSERT INTO ${this.s}.tweets (id, author_id, text, created_at)
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::timestamptz[])`,
        [
          t.map((x) => x.id),
          t.map((x) => x.authorId),
          t.map((x) => x.text),
          t.map((x) => x.createdAt),
        ],
      );
    }
    if (c.deleteTweets.length > 0) {
      await q('delete_tweets', `DELETE FROM ${this.s}.tweets WHERE id = ANY($1::uuid[])`, [
        c.deleteTweets,
      ]);
    }
    if (c.counters.length > 0) {
      const d = c.counters;
      await q(
        'counters',
        `UPDATE ${this.s}.users u SET followers_count = u.followers_count + v.followers,
           following_count = u.following_count + v.following, tweet_count = u.tweet_count + v.tweets
         FROM unnest($1::uuid[], $2::int[], $3::int[], $4::int[]) AS v(id, followers, following, tweets)
         WHERE u.id = v.id`,
        [
          d.map((x) => x.id),
          d.map((x) => x.followers),
          d.map((x) => x.following),
          d.map((x) => x.tweets),
        ],
      );
    }
    if (c.deleteUsers.length > 0) {
      // Cascade: drop the users' edges in both directions and correct the other side's counters
      // (an edge between two deleted users is deleted, and counted, once), then tweets and rows.
      await q(
        'delete_users_edges',
        `WITH gone AS (
           DELETE FROM ${this.s}.follows f
           WHERE f.follower_id = ANY($1::uuid[]) OR f.followee_id = ANY($1::uuid[])
           RETURNING f.follower_id, f.followee_id),
         dec AS (
           SELECT id, sum(followers)::int AS followers, sum(following)::int AS following FROM (
             SELECT followee_id AS id, 1 AS followers, 0 AS following FROM gone
             UNION ALL SELECT follower_id, 0, 1 FROM gone) x GROUP BY id)
         UPDATE ${this.s}.users u SET followers_count = u.followers_count - dec.followers,
           following_count = u.following_count - dec.following
         FROM dec WHERE u.id = dec.id`,
        [c.deleteUsers],
      );
      await q(
        'delete_users_tweets',
        `DELETE FROM ${this.s}.tweets WHERE author_id = ANY($1::uuid[])`,
        [c.deleteUsers],
      );
      await q('delete_users', `DELETE FROM ${this.s}.users WHERE id = ANY($1::uuid[])`, [
        c.deleteUsers,
      ]);
    }
  }

  /** Empties the copy and its checkpoint (the running writer notices the moved checkpoint). */
  async reset(): Promise<void> {
    await this.setup();
    await this.pool.query(
      `BEGIN; TRUNCATE ${this.s}.users, ${this.s}.follows, ${this.s}.tweets;
       UPDATE ${this.s}.checkpoint SET position = NULL; COMMIT`,
    );
  }

  /** Drops the whole copy (a rebuild's old or scratch copy). */
  async drop(): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await lockSchemaInTransaction(tx);
      await sql`DROP SCHEMA IF EXISTS ${sql.id(this.copy)} CASCADE`.execute(tx);
    });
  }

  async close(): Promise<void> {
    // The pool belongs to the caller.
  }
}
