import { z } from 'zod';
import { idField, timestampField } from '../core/textFields.ts';

export const userResponseSchema = z
  .object({
    id: idField,
    username: z.string(),
    displayName: z.string(),
    bio: z.string(),
    createdAt: timestampField,
  })
  .meta({ id: 'User', description: 'A user as the command service answers it (no token)' });
