import { idField, pageSchemaOf, timestampField, userFields } from '@tweeter/shared';
import { z } from 'zod';
import type { TweetWithAuthorRow } from '../readModel/tweets.repository.ts';
import type { AuthorRow, ProfileRow } from '../readModel/users.repository.ts';

/** Response schemas (the OpenAPI document is generated from them) and the mappings to them. */

export const userProfileSchema = z
  .object({
    ...userFields,
    followersCount: z.number().int(),
    followingCount: z.number().int(),
    tweetCount: z.number().int(),
  })
  .meta({ id: 'UserProfile', description: 'A user with counters' });

export const userSummarySchema = z
  .object({ id: idField, username: z.string(), displayName: z.string() })
  .meta({ id: 'UserSummary' });

export const tweetSchema = z
  .object({
    id: idField,
    authorId: idField,
    text: z.string(),
    createdAt: timestampField,
    author: userSummarySchema,
  })
  .meta({ id: 'Tweet' });

export const userSummaryPageSchema = pageSchemaOf(userSummarySchema, 'UserSummaryPage');
export const tweetPageSchema = pageSchemaOf(tweetSchema, 'TweetPage');

export type UserProfile = z.infer<typeof userProfileSchema>;
export type UserSummary = z.infer<typeof userSummarySchema>;
export type Tweet = z.infer<typeof tweetSchema>;

export const profileView = (u: ProfileRow): UserProfile => ({
  id: u.id,
  username: u.username,
  displayName: u.display_name,
  bio: u.bio,
  createdAt: u.created_at.toISOString(),
  followersCount: u.followers_count,
  followingCount: u.following_count,
  tweetCount: u.tweet_count,
});

export const summaryView = (u: AuthorRow): UserSummary => ({
  id: u.id,
  username: u.username,
  displayName: u.display_name,
});

export const tweetView = (t: TweetWithAuthorRow): Tweet => ({
  id: t.id,
  authorId: t.author_id,
  text: t.text,
  createdAt: t.created_at.toISOString(),
  author: { id: t.author_id, username: t.username, displayName: t.display_name },
});
