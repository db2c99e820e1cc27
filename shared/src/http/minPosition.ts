import type { IncomingMessage } from 'node:http';
import { isPosition } from '../eventStore/port.ts';
import { validationProblem } from './problems.ts';

/**
 * The X-Min-Position header of a request (read-your-writes: the X-Event-Position of a command),
 * validated; null when absent. A malformed value is a 400.
 */
export function minPositionOf(req: Pick<IncomingMessage, 'headers'>): string | null {
  const value = req.headers['x-min-position'];
  if (value === undefined) return null;
  if (typeof value !== 'string' || !isPosition(value.trim()))
    throw validationProblem('The X-Min-Position header is invalid', [
      { path: 'X-Min-Position', message: 'must be the value of an X-Event-Position header' },
    ]);
  return value.trim();
}
