import type { Position } from '@tweeter/shared';
import type { Request, Response } from 'express';

/** The request id the shared HTTP kit assigned; it becomes the events' correlation id. */
export const requestIdOf = (req: Request): string =>
  typeof req.id === 'string' || typeof req.id === 'number' ? String(req.id) : 'unknown';

/** What a command's handler is told about the request it serves. */
export const commandRequestOf = (req: Request) => ({ requestId: requestIdOf(req) });

/**
 * Headers of a success: where its events are in the log (read-your-writes on the query side;
 * none when nothing was appended), and whether it is the replay of a keyed request.
 */
export function setEventPosition(
  res: Response,
  position: Position | null,
  replayed = false,
): Response {
  if (position !== null) res.setHeader('X-Event-Position', position);
  if (replayed) res.setHeader('Idempotent-Replayed', 'true');
  return res;
}

/** 204: the success of a command that answers nothing but where its events are. */
export function sendNoContent(res: Response, { position }: { position: Position | null }): void {
  setEventPosition(res, position).status(204).end();
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
