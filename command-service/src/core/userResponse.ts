import { userFields } from '@tweeter/shared';
import { z } from 'zod';
import type { User } from '../domain/users/user.ts';

export const userResponseSchema = z
  .object(userFields)
  .meta({ id: 'User', description: 'A user as the command service answers it (no token)' });

/** The public view of a user (no token hash). */
export const userView = (user: User): z.infer<typeof userResponseSchema> => ({
  id: user.id,
  username: user.username,
  displayName: user.displayName,
  bio: user.bio,
  createdAt: user.createdAt,
});
