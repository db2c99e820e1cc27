import { idParam, parseOr400 } from '@tweeter/shared';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { actorOf } from './authentication.ts';

export const userPathParams = z.object({ id: idParam });
export const followPathParams = z.object({ id: idParam, targetId: idParam });
export const tweetPathParams = z.object({ id: idParam });

/** The follow edge a follow or unfollow request names, and the authenticated caller changing it. */
export function followEdgeOf(req: Request, res: Response) {
  const { id, targetId } = parseOr400(followPathParams, req.params, 'path');
  return { followerId: id, followeeId: targetId, actorId: actorOf(res).user.id };
}
