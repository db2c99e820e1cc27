import type { PlanBuffer, StepTransaction } from './rule.ts';
import { homeScriptPrelude } from './trimHome.ts';

export type UnmergeFromHomeOp = { kind: 'unfollow'; followerId: string; followeeId: string };

/**
 * Rule `unmergeFromHome`: an unfollow drops the edge from the projection's follow graph and
 * removes every entry of the followee from the follower's home (scanning the smaller of the two
 * sets). The boundary does not move: removals only shrink a home. A user's deletion unmerges the
 * user from each follower's home the same way (`emitUnmergeAuthor`).
 */
export function unmergeFromHome(buffer: PlanBuffer, followerId: string, followeeId: string): void {
  buffer.touch(followerId);
  buffer.push({ kind: 'unfollow', followerId, followeeId }, 4);
}

export function emitUnmergeFromHome(tx: StepTransaction, op: UnmergeFromHomeOp): void {
  const k = tx.keys;
  tx.multi.evalsha(
    tx.sha('unmergeFromHome'),
    4,
    k.home(op.followerId),
    k.author(op.followeeId),
    k.followers(op.followeeId),
    k.following(op.followerId),
    op.followerId,
    op.followeeId,
  );
}

/** Removes every entry of `authorId` from `homeOf`'s home, leaving the follow graph alone. */
export function emitUnmergeAuthor(tx: StepTransaction, homeOf: string, authorId: string): void {
  tx.multi.evalsha(tx.sha('unmergeFromHome'), 2, tx.keys.home(homeOf), tx.keys.author(authorId));
}

/**
 * KEYS home, author list, then optionally followers of the author and following of the home's
 * owner with ARGV home owner id, author id: drops that edge too. Removes every entry of that
 * author from the home, scanning the smaller set.
 */
export const unmergeFromHomeScript = `${homeScriptPrelude}
if KEYS[3] then
  redis.call('SREM', KEYS[3], ARGV[1])
  redis.call('SREM', KEYS[4], ARGV[2])
end
local nh = redis.call('ZCARD', KEYS[1])
if nh == 0 then return 0 end
local na = redis.call('ZCARD', KEYS[2])
if na == 0 then return 0 end
local gone
if na <= nh then
  gone = redis.call('ZRANGE', KEYS[2], 0, -1)
else
  gone = {}
  for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
    if redis.call('ZSCORE', KEYS[2], m) then gone[#gone + 1] = m end
  end
end
if #gone > 0 then zrem(KEYS[1], gone) end
return #gone
`;
