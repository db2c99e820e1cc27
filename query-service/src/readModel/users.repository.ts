import type { UserRow } from '@tweeter/shared';
import { uuidArray, type ReadModelCopy } from './database.ts';

/** A user with its counters, as a profile shows it. */
export type ProfileRow = Omit<UserRow, 'username_lower'>;

/** The names of a user, as a listing or a tweet's author shows them. */
export type AuthorRow = Pick<UserRow, 'id' | 'username' | 'display_name'>;

export const authorColumns = ['id', 'username', 'display_name'] as const;

const profile = (db: ReadModelCopy) =>
  db
    .selectFrom('users')
    .select([
      ...authorColumns,
      'bio',
      'created_at',
      'followers_count',
      'following_count',
      'tweet_count',
    ]);

export function userById(db: ReadModelCopy, id: string): Promise<ProfileRow | undefined> {
  return profile(db).where('id', '=', id).executeTakeFirst();
}

/** Case-insensitive, by the unique `username_lower`. */
export function userByUsername(
  db: ReadModelCopy,
  username: string,
): Promise<ProfileRow | undefined> {
  return profile(db)
    .where('username_lower', '=', (eb) => eb.fn('lower', [eb.val(username)]))
    .executeTakeFirst();
}

export async function userExists(db: ReadModelCopy, id: string): Promise<boolean> {
  const row = await db
    .selectFrom('users')
    .select((eb) => eb.lit(1).as('one'))
    .where('id', '=', id)
    .executeTakeFirst();
  return row !== undefined;
}

/** The users of `ids` that exist (one statement whatever the count: `= ANY($1::uuid[])`). */
export function authorsById(db: ReadModelCopy, ids: readonly string[]): Promise<AuthorRow[]> {
  return db
    .selectFrom('users')
    .select(authorColumns)
    .where('id', '=', (eb) => eb.fn.any(uuidArray(ids)))
    .execute();
}
