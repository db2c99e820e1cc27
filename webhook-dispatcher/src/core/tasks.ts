import { idField, timestampField } from '@tweeter/shared';
import { z } from 'zod';
import { iso } from './http.ts';
import type { Task } from './tables.ts';

export const taskSchema = z
  .object({
    id: idField.meta({ description: 'Also the webhook-id header of the digest delivery' }),
    username: z.string(),
    status: z.enum(['scheduled', 'running', 'retrying', 'succeeded', 'failed']),
    attempts: z.number().int(),
    lastError: z.string().nullable(),
    runAt: timestampField.meta({ description: 'The next (or last) attempt' }),
    finishedAt: timestampField.nullable(),
  })
  .meta({ id: 'DigestTask' });

export const taskView = (t: Task) => ({
  id: t.id,
  username: t.username,
  status: t.status,
  attempts: t.attempts,
  lastError: t.last_error,
  runAt: iso(t.run_at),
  finishedAt: iso(t.finished_at),
});
