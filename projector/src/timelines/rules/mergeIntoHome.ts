import type { PlanBuffer, StepTransaction } from './rule.ts';
import { homeScriptPrelude } from './trimHome.ts';

export type MergeIntoHomeOp = {
  kind: 'follow';
  followerId: string;
  followeeId: string;
  /** False for a celebrity followee: readers merge a celebrity's list at read time. */
  merge: boolean;
};

/**
 * Rule `mergeIntoHome`: a follow records the edge in the projection's follow graph, then merges
 * the followee's newest `cap` entries that are >= the follower's boundary into the follower's
 * home, and trims it. One script call per follow (follows dominate a replay's command count).
 */
export function mergeIntoHome(
  buffer: PlanBuffer,
  followerId: string,
  followeeId: string,
  merge: boolean,
): void {
  buffer.touch(followerId);
  buffer.push({ kind: 'follow', followerId, followeeId, merge }, 4);
}

export function emitMergeIntoHome(tx: StepTransaction, op: MergeIntoHomeOp): void {
  const k = tx.keys;
  tx.multi.evalsha(
    tx.sha('mergeIntoHome'),
    5,
    k.home(op.followerId),
    k.user(op.followerId),
    k.author(op.followeeId),
    k.followers(op.followeeId),
    k.following(op.followerId),
    tx.cap,
    op.followerId,
    op.followeeId,
    op.merge ? '1' : '0',
  );
}

/**
 * KEYS home, user, followee's author list, followers of the followee, following of the follower;
 * ARGV cap, follower id, followee id, '1' to merge. Records the edge, then merges the followee's
 * newest entries.
 */
export const mergeIntoHomeScript = `${homeScriptPrelude}
redis.call('SADD', KEYS[4], ARGV[2])
redis.call('SADD', KEYS[5], ARGV[3])
if ARGV[4] ~= '1' then return 0 end
local h = redis.call('HMGET', KEYS[2], 'u', 'bs', 'bm')
if not h[1] then return 0 end
local cap = tonumber(ARGV[1])
local bs = h[2] and tonumber(h[2])
local entries = redis.call('ZRANGE', KEYS[3], 0, cap - 1, 'REV', 'WITHSCORES')
local args = {}
for i = 1, #entries, 2 do
  local s = tonumber(entries[i + 1])
  if not keep(s, entries[i], bs, h[3]) then break end
  args[#args + 1] = entries[i + 1]
  args[#args + 1] = entries[i]
end
if #args == 0 then return 0 end
zadd(KEYS[1], args)
trim(KEYS[1], KEYS[2], cap)
return #args / 2
`;
