import type { FollowRow } from '@tweeter/shared';
import type { KeysetPosition } from '@tweeter/shared';
import { keysetBelow, type ReadModelCopy } from './database.ts';
import type { AuthorRow } from './users.repository.ts';

/** A listed user with the time of the follow (the keyset). */
export type FollowListingRow = AuthorRow & Pick<FollowRow, 'followed_at'>;

export type FollowSide = 'followers' | 'following';

/** Which edge column names the listing's user, which the users listed. */
const sides = {
  followers: { subject: 'followee_id', listed: 'follower_id' },
  following: { subject: 'follower_id', listed: 'followee_id' },
} as const;

/**
 * Who follows `userId` (followers) or whom `userId` follows (following), newest follow first,
 * strictly below `after`: a range of the follows_followers_page / follows_following_page index.
 */
export function followListing(
  db: ReadModelCopy,
  side: FollowSide,
  userId: string,
  after: KeysetPosition | null,
  limit: number,
): Promise<FollowListingRow[]> {
  const { subject, listed } = sides[side];
  return db
    .selectFrom('follows as f')
    .innerJoin('users as u', 'u.id', `f.${listed}`)
    .select(['u.id', 'u.username', 'u.display_name', 'f.followed_at'])
    .where(`f.${subject}`, '=', userId)
    .where(keysetBelow('f.followed_at', `f.${listed}`, after))
    .orderBy('f.followed_at', 'desc')
    .orderBy(`f.${listed}`, 'desc')
    .limit(limit)
    .execute();
}
