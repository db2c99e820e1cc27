import { z } from 'zod';
import type { AuthorRecord, FollowRecord, TweetRecord, UserRecord } from './readModel.ts';
import { pageSchemaOf } from './paging.ts';

/** Response schemas (the OpenAPI document is generated from them) and the mappings to them. */

const id = z
  .uuid()
  .meta({ description: 'UUID (v7)', example: '01936b2a-7c3e-7d1a-9f4e-2b8c5d6e7f80' });
const timestamp = z.iso
  .datetime({ precision: 3 })
  .meta({ description: 'RFC 3339 UTC with milliseconds', example: '2026-11-24T10:15:30.123Z' });

export const userProfileSchema = z
  .object({
    id,
    username: z.string(),
    displayName: z.string(),
    bio: z.string(),
    createdAt: timestamp,
    followersCount: z.number().int(),
    followingCount: z.number().int(),
    tweetCount: z.number().int(),
  })
  .meta({ id: 'UserProfile', description: 'A user with counters' });

export const userSummarySchema = z
  .object({ id, username: z.string(), displayName: z.string() })
  .meta({ id: 'UserSummary' });

export const tweetSchema = z
  .object({
    id,
    authorId: id,
    text: z.string(),
    createdAt: timestamp,
    author: userSummarySchema,
  })
  .meta({ id: 'Tweet' });

export const userSummaryPageSchema = pageSchemaOf(userSummarySchema, 'UserSummaryPage');
export const tweetPageSchema = pageSchemaOf(tweetSchema, 'TweetPage');

export type UserProfile = z.infer<typeof userProfileSchema>;
export type UserSummary = z.infer<typeof userSummarySchema>;
export type Tweet = z.infer<typeof tweetSchema>;

export const profileView = (u: UserRecord): UserProfile => ({
  id: u.id,
  username: u.username,
  displayName: u.display_name,
  bio: u.bio,
  createdAt: u.created_at.toISOString(),
  followersCount: u.followers_count,
  followingCount: u.following_count,
  tweetCount: u.tweet_count,
});

export const summaryView = (u: AuthorRecord | FollowRecord): UserSummary => ({
  id: u.id,
  username: u.username,
  displayName: u.display_name,
});

export const tweetView = (t: TweetRecord): Tweet => ({
  id: t.id,
  authorId: t.author_id,
  text: t.text,
  createdAt: t.created_at.toISOString(),
  author: { id: t.author_id, username: t.username, displayName: t.display_name },
});
