import type { KeysetPosition, TweetRow, UserRow } from '@tweeter/shared';
import { sql } from 'kysely';
import { keysetBelow, uuidArray, type ReadModelCopy } from './database.ts';

/** A tweet with its author's names. */
export type TweetWithAuthorRow = TweetRow & Pick<UserRow, 'username' | 'display_name'>;

const tweetColumns = [
  't.id',
  't.author_id',
  't.text',
  't.created_at',
  'u.username',
  'u.display_name',
] as const;

const withAuthors = (db: ReadModelCopy) =>
  db.selectFrom('tweets as t').innerJoin('users as u', 'u.id', 't.author_id').select(tweetColumns);

/** The tweets of `authorId`, newest first, strictly below `after` (the tweets_author_page index). */
export function tweetsBy(
  db: ReadModelCopy,
  authorId: string,
  after: KeysetPosition | null,
  limit: number,
): Promise<TweetWithAuthorRow[]> {
  return withAuthors(db)
    .where('t.author_id', '=', authorId)
    .where(keysetBelow('t.created_at', 't.id', after))
    .orderBy('t.created_at', 'desc')
    .orderBy('t.id', 'desc')
    .limit(limit)
    .execute();
}

/** Tweets by id (those that exist), with their authors. */
export function tweetsById(
  db: ReadModelCopy,
  ids: readonly string[],
): Promise<TweetWithAuthorRow[]> {
  return withAuthors(db)
    .where('t.id', '=', (eb) => eb.fn.any(uuidArray(ids)))
    .execute();
}

export async function tweetById(
  db: ReadModelCopy,
  id: string,
): Promise<TweetWithAuthorRow | undefined> {
  const rows = await tweetsById(db, [id]);
  return rows[0];
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
export function homeTimeline(
  db: ReadModelCopy,
  userId: string,
  below: KeysetPosition | null,
  limit: number,
): Promise<TweetWithAuthorRow[]> {
  const authors = db
    .selectFrom('follows')
    .select('followee_id as author_id')
    .where('follower_id', '=', userId)
    .unionAll(db.selectNoFrom(sql<string>`${userId}::uuid`.as('author_id')));
  const newest = db
    .selectFrom(authors.as('a'))
    .crossJoinLateral((eb) =>
      eb
        .selectFrom('tweets as t')
        .select(['t.id', 't.created_at'])
        .whereRef('t.author_id', '=', 'a.author_id')
        .where(keysetBelow('t.created_at', 't.id', below))
        .orderBy('t.created_at', 'desc')
        .orderBy('t.id', 'desc')
        .limit(limit)
        .as('x'),
    )
    .select('x.id')
    .orderBy('x.created_at', 'desc')
    .orderBy('x.id', 'desc')
    .limit(limit);
  return db
    .selectFrom(newest.as('top'))
    .innerJoin('tweets as t', 't.id', 'top.id')
    .innerJoin('users as u', 'u.id', 't.author_id')
    .select(tweetColumns)
    .orderBy('t.created_at', 'desc')
    .orderBy('t.id', 'desc')
    .execute();
}
