import type { Position } from '@tweeter/shared';
import type { CommandContext } from '../core/context.ts';
import { changeFollow } from '../follows/changeFollow.ts';

export function unfollowUser(
  ctx: CommandContext,
  edge: { followerId: string; followeeId: string; actorId: string },
  request: { requestId: string },
): Promise<{ position: Position | null }> {
  return changeFollow(ctx, { type: 'Unfollow', data: edge }, request);
}
