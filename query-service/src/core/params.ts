import { idParam, parseOr400 } from '@tweeter/shared';
import type { Request } from 'express';
import { z } from 'zod';

export const idPathParams = z.object({ id: idParam });

export const usernamePathParams = z.object({
  username: z
    .string()
    .regex(/^[A-Za-z0-9_]{1,15}$/, 'must be 1–15 letters, digits or underscores')
    .meta({ description: 'Matched case-insensitively', example: 'ada_lovelace' }),
});

/** The `{id}` of a path, validated (400) and lower-cased. */
export const pathIdOf = (req: Request): string => parseOr400(idPathParams, req.params, 'path').id;

export const minPositionHeader = z.object({
  'X-Min-Position': z
    .string()
    .optional()
    .meta({
      description:
        'Read-your-writes: the X-Event-Position of a command. The request waits until the projections ' +
        'it reads have passed it (up to CONSISTENCY_WAIT_MS), else 503 /problems/consistency-timeout.',
    }),
});
