/**
 * The raw read-model writes, the baseline of `replay-read-model` (docs/benchmarks.md): the row
 * changes the projection makes, written by plain batched SQL from a list computed beforehand.
 *
 * Not timed: the log is read in the replay's batches and folded, batch by batch, over an in-memory
 * copy of the tables (`foldReadModel`, then the adapter's statements and its cascade of a user
 * deletion done on that copy), which gives each batch's net row changes per table: rows inserted,
 * updated and deleted. Timed: writing them into a fresh copy made by the projection's migrations
 * (same tables and indexes), one transaction per batch with the projection's commit settings, as
 * multi-row statements over VALUES, and the checkpoint. Afterwards the copy is compared with the
 * projection's, row by row in SQL: the baseline must have written the same rows.
 */
import type pg from 'pg';
import {
  decodeEvent,
  inTransaction,
  type DecodedEvent,
  type EventStore,
  type Position,
  type RecordedEvent,
} from '@tweeter/shared';
import {
  foldReadModel,
  pairKey,
  referencesOf,
  type ReadModelChanges,
} from '../src/readModel/fold.ts';
import { ReadModelProjection } from '../src/readModel/readModelProjection.ts';

/** The copy the baseline writes, beside the projection's (dropped at the end). */
const rawCopy = 'bench_raw_read_model';
/** Rows per statement: 2,000 users of 9 parameters stay far below PostgreSQL's 65,535. */
const rowsPerStatement = 2_000;

interface UserRow {
  username: string;
  displayName: string;
  bio: string;
  createdAt: string;
  followers: number;
  following: number;
  tweets: number;
}
interface FollowRow {
  followerId: string;
  followeeId: string;
  followedAt: string;
}
interface TweetRow {
  authorId: string;
  text: string;
  createdAt: string;
}

/** Rows of the in-memory copy are flat: equal when every field is. */
const sameRow = <Row extends object>(a: Row, b: Row) =>
  (Object.keys(b) as (keyof Row)[]).every((k) => a[k] === b[k]);

/** A table of the in-memory copy; remembers each row's value before the current batch touched it. */
class Table<Row extends object> {
  readonly rows = new Map<string, Row>();
  private before = new Map<string, Row | undefined>();

  /** Rows are replaced, never changed in place, so that `before` keeps the old values. */
  set(key: string, row: Row): void {
    this.touch(key);
    this.rows.set(key, row);
  }

  delete(key: string): void {
    this.touch(key);
    this.rows.delete(key);
  }

  /** The net changes since the last call: a row set back to what it was is no change. */
  takeChanges() {
    const inserted: [string, Row][] = [];
    const updated: [string, Row, Row][] = [];
    const deleted: [string, Row][] = [];
    for (const [key, old] of this.before) {
      const now = this.rows.get(key);
      if (old === undefined) {
        if (now !== undefined) inserted.push([key, now]);
      } else if (now === undefined) deleted.push([key, old]);
      else if (!sameRow(old, now)) updated.push([key, old, now]);
    }
    this.before = new Map();
    return { inserted, updated, deleted };
  }

  private touch(key: string): void {
    if (!this.before.has(key)) this.before.set(key, this.rows.get(key));
  }
}

interface Statement {
  text: string;
  values: unknown[];
}

/** One batch: its statements, the checkpoint last, ready to send. */
interface Batch {
  events: number;
  statements: Statement[];
}

/**
 * Multi-row statements of up to `rowsPerStatement` rows each. `columns` are the SQL of one value
 * of a row, `?` standing for its parameter (e.g. `?::uuid`); `text` places the VALUES list.
 */
function statements(
  rows: readonly unknown[][],
  columns: readonly string[],
  text: (values: string) => string,
): Statement[] {
  const out: Statement[] = [];
  for (let start = 0; start < rows.length; start += rowsPerStatement) {
    const chunk = rows.slice(start, start + rowsPerStatement);
    let n = 0;
    const tuples = chunk.map(
      () => `(${columns.map((c) => c.replace('?', () => `$${++n}`)).join(', ')})`,
    );
    out.push({ text: text(tuples.join(', ')), values: chunk.flat() });
  }
  return out;
}

/** The in-memory copy of the read model, folded batch by batch into each batch's statements. */
class Planner {
  private readonly users = new Table<UserRow>();
  private readonly follows = new Table<FollowRow>();
  private readonly tweets = new Table<TweetRow>();
  private readonly s = `"${rawCopy}"`;

  plan(events: DecodedEvent[], count: number, upTo: Position): Batch {
    if (events.length > 0) this.apply(foldReadModel(events, this.touched(events)));
    return { events: count, statements: [...this.write(), this.checkpoint(upTo)] };
  }

  /** What the projection's `load` would find in its tables. */
  private touched(events: DecodedEvent[]) {
    const refs = referencesOf(events);
    const edges = new Map<string, string>();
    for (const [a, b] of refs.pairs) {
      const row = this.follows.rows.get(pairKey(a, b));
      if (row) edges.set(pairKey(a, b), row.followedAt);
    }
    const tweets = new Map<string, string>();
    for (const id of refs.tweetIds) {
      const row = this.tweets.rows.get(id);
      if (row) tweets.set(id, row.authorId);
    }
    return { users: new Set(refs.userIds.filter((id) => this.users.rows.has(id))), edges, tweets };
  }

  /** The adapter's statements, in its order, on the in-memory copy. */
  private apply(c: ReadModelChanges): void {
    const { users, follows, tweets } = this;
    const add = (id: string, followers: number, following: number, tweetCount: number) => {
      const row = users.rows.get(id);
      if (row)
        users.set(id, {
          ...row,
          followers: row.followers + followers,
          following: row.following + following,
          tweets: row.tweets + tweetCount,
        });
    };
    for (const u of c.insertUsers) users.set(u.id, { ...u, followers: 0, following: 0, tweets: 0 });
    for (const p of c.updateProfiles) {
      const row = users.rows.get(p.id);
      if (row)
        users.set(p.id, {
          ...row,
          displayName: p.displayName ?? row.displayName,
          bio: p.bio ?? row.bio,
        });
    }
    for (const e of c.upsertEdges) follows.set(pairKey(e.followerId, e.followeeId), e);
    for (const e of c.deleteEdges) follows.delete(pairKey(e.followerId, e.followeeId));
    for (const t of c.insertTweets) tweets.set(t.id, t);
    for (const id of c.deleteTweets) tweets.delete(id);
    for (const d of c.counters) add(d.id, d.followers, d.following, d.tweets);
    if (c.deleteUsers.length === 0) return;
    const gone = new Set(c.deleteUsers);
    for (const [key, e] of follows.rows)
      if (gone.has(e.followerId) || gone.has(e.followeeId)) {
        follows.delete(key);
        add(e.followeeId, -1, 0, 0);
        add(e.followerId, 0, -1, 0);
      }
    for (const [id, t] of tweets.rows) if (gone.has(t.authorId)) tweets.delete(id);
    for (const id of gone) users.delete(id);
  }

  /**
   * The batch's net changes as statements. Deletions first, so that no unique key (a username) is
   * ever held twice. A user inserted in the batch carries its counters as of the batch's end; an
   * existing user's counters are increments, as the projection writes them, in the same single
   * UPDATE of the row as its profile (final values).
   */
  private write(): Statement[] {
    const s = this.s;
    const users = this.users.takeChanges();
    const follows = this.follows.takeChanges();
    const tweets = this.tweets.takeChanges();
    return [
      ...statements(
        follows.deleted.map(([, e]) => [e.followerId, e.followeeId]),
        ['?::uuid', '?::uuid'],
        (v) => `DELETE FROM ${s}.follows f USING (VALUES ${v}) AS v(a, b)
                WHERE f.follower_id = v.a AND f.followee_id = v.b`,
      ),
      ...statements(
        tweets.deleted.map(([id]) => [id]),
        ['?::uuid'],
        (v) => `DELETE FROM ${s}.tweets t USING (VALUES ${v}) AS v(id) WHERE t.id = v.id`,
      ),
      ...statements(
        users.deleted.map(([id]) => [id]),
        ['?::uuid'],
        (v) => `DELETE FROM ${s}.users u USING (VALUES ${v}) AS v(id) WHERE u.id = v.id`,
      ),
      ...statements(
        users.inserted.map(([id, u]) => [
          id,
          u.username,
          u.username,
          u.displayName,
          u.bio,
          u.createdAt,
          u.followers,
          u.following,
          u.tweets,
        ]),
        [
          '?::uuid',
          '?::text',
          'lower(?::text)',
          '?::text',
          '?::text',
          '?::timestamptz',
          '?::int',
          '?::int',
          '?::int',
        ],
        (v) => `INSERT INTO ${s}.users (id, username, username_lower, display_name, bio,
                  created_at, followers_count, following_count, tweet_count) VALUES ${v}`,
      ),
      ...statements(
        users.updated.map(([id, old, u]) => [
          id,
          u.displayName,
          u.bio,
          u.followers - old.followers,
          u.following - old.following,
          u.tweets - old.tweets,
        ]),
        ['?::uuid', '?::text', '?::text', '?::int', '?::int', '?::int'],
        (v) => `UPDATE ${s}.users u SET display_name = v.display_name, bio = v.bio,
                  followers_count = u.followers_count + v.followers,
                  following_count = u.following_count + v.following,
                  tweet_count = u.tweet_count + v.tweets
                FROM (VALUES ${v}) AS v(id, display_name, bio, followers, following, tweets)
                WHERE u.id = v.id`,
      ),
      ...statements(
        follows.inserted.map(([, e]) => [e.followerId, e.followeeId, e.followedAt]),
        ['?::uuid', '?::uuid', '?::timestamptz'],
        (v) => `INSERT INTO ${s}.follows (follower_id, followee_id, followed_at) VALUES ${v}`,
      ),
      // An edge unfollowed and followed again within the batch: the new time.
      ...statements(
        follows.updated.map(([, , e]) => [e.followerId, e.followeeId, e.followedAt]),
        ['?::uuid', '?::uuid', '?::timestamptz'],
        (v) => `UPDATE ${s}.follows f SET followed_at = v.at FROM (VALUES ${v}) AS v(a, b, at)
                WHERE f.follower_id = v.a AND f.followee_id = v.b`,
      ),
      ...statements(
        tweets.inserted.map(([id, t]) => [id, t.authorId, t.text, t.createdAt]),
        ['?::uuid', '?::uuid', '?::text', '?::timestamptz'],
        (v) => `INSERT INTO ${s}.tweets (id, author_id, text, created_at) VALUES ${v}`,
      ),
    ];
  }

  private checkpoint(upTo: Position): Statement {
    return { text: `UPDATE ${this.s}.checkpoint SET position = $1`, values: [upTo] };
  }
}

/** What the baseline is, for the figure line. */
export const rawReadModelNote = (batchSize: number): string =>
  `the same net row changes per ${batchSize}-event batch, computed beforehand, written by multi-row INSERT / UPDATE / DELETE over VALUES (up to ${rowsPerStatement} rows each), one transaction per batch`;

export interface RawReadModelWrites {
  /** Events the writes stand for (every event of the log, as the replay counts them). */
  events: number;
  /** Of the writes alone. */
  seconds: number;
  /** Rows (users, follows, tweets, checkpoint) that differ from the projection's copy: 0. */
  rowsDiffering: number;
}

/**
 * Reads the whole log in batches of `batchSize` (the replay's), plans every batch's statements,
 * then times writing them into a fresh copy; compares it with `compareWith` and drops it.
 */
export async function rawReadModelWrites(
  pool: pg.Pool,
  store: EventStore,
  { batchSize, compareWith }: { batchSize: number; compareWith: string },
): Promise<RawReadModelWrites> {
  const planner = new Planner();
  const batches: Batch[] = [];
  let after: Position | null = null;
  let batch: RecordedEvent[];
  do {
    batch = await store.readAll({ after, maxCount: batchSize });
    if (batch.length === 0) break;
    after = batch[batch.length - 1]!.position;
    const decoded = batch.map(decodeEvent).filter((e): e is DecodedEvent => e !== null);
    batches.push(planner.plan(decoded, batch.length, after));
  } while (batch.length === batchSize); // a shorter batch ends at the head
  const copy = new ReadModelProjection(pool, rawCopy);
  await copy.reset(); // creates it, or empties what an earlier run left
  try {
    // As before the replay: the writes should not pay for flushing what came before them.
    await pool.query('CHECKPOINT');
    const started = performance.now();
    for (const batch of batches)
      await inTransaction(pool, 'BEGIN; SET LOCAL synchronous_commit = off', async (client) => {
        for (const statement of batch.statements) await client.query(statement);
      });
    const seconds = (performance.now() - started) / 1000;
    let rowsDiffering = 0;
    for (const table of ['users', 'follows', 'tweets', 'checkpoint']) {
      const [a, b] = [`"${rawCopy}".${table}`, `"${compareWith}".${table}`];
      const { rows } = await pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ((TABLE ${a} EXCEPT ALL TABLE ${b})
           UNION ALL (TABLE ${b} EXCEPT ALL TABLE ${a})) d`,
      );
      rowsDiffering += rows[0]!.n;
    }
    return {
      events: batches.reduce((n, b) => n + b.events, 0),
      seconds,
      rowsDiffering,
    };
  } finally {
    await copy.drop();
  }
}
