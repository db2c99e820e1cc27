import type { Position } from '@tweeter/shared';
import type { Request, Response } from 'express';

/** The request id the shared HTTP kit assigned; it becomes the events' correlation id. */
export const requestIdOf = (req: Request): string =>
  typeof req.id === 'string' || typeof req.id === 'number' ? String(req.id) : 'unknown';

/** Headers of a success that appended events (read-your-writes on the query side). */
export function setEventPosition(res: Response, position: Position | null): void {
  if (position !== null) res.setHeader('X-Event-Position', position);
}

export const eventPositionHeader = {
  'X-Event-Position': {
    description:
      'Global log position of the append; pass it as X-Min-Position to the query service to read your write. ' +
      'Absent when the request changed nothing.',
    schema: { type: 'string' as const },
  },
};

export const locationHeader = {
  Location: { description: 'Where the new resource is', schema: { type: 'string' as const } },
};

export const bearerSecurity = [{ bearer: [] }];
