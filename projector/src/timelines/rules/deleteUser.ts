import type { PlanBuffer, StepTransaction } from './rule.ts';
import { emitUnmergeAuthor } from './unmergeFromHome.ts';

export type DeleteUserOp = {
  kind: 'deleteUser';
  userId: string;
  followers: string[];
  following: string[];
};

/**
 * Rule `deleteUser`: the user's entries leave every follower's home (`unmergeFromHome` without the
 * edge), the user leaves both sides of the follow graph, and all the user's keys and tweet bodies
 * are deleted.
 */
export function deleteUser(
  buffer: PlanBuffer,
  userId: string,
  followers: string[],
  following: string[],
): void {
  for (const f of followers) buffer.touch(f);
  buffer.touch(userId);
  buffer.push(
    { kind: 'deleteUser', userId, followers, following },
    2 * followers.length + following.length + 8,
  );
}

export function emitDeleteUser(tx: StepTransaction, op: DeleteUserOp): void {
  const { multi: m, keys: k } = tx;
  const x = op.userId;
  for (const f of op.followers) {
    emitUnmergeAuthor(tx, f, x);
    m.srem(k.following(f), x);
  }
  for (const f of op.following) m.srem(k.followers(f), x);
  m.evalsha(tx.sha('deleteBodies'), 1, k.author(x), `${tx.redisPrefix}${k.tweetPrefix}`);
  m.del(k.home(x), k.user(x), k.author(x), k.followers(x), k.following(x));
  m.srem(k.celebs, x);
}

/**
 * KEYS author list; ARGV the full prefix of tweet body keys (REDIS_PREFIX included: the key names
 * are derived here). Deletes the bodies of all the author's tweets.
 */
export const deleteBodiesScript = `
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
local keys = {}
for _, m in ipairs(members) do
  local hex = string.gsub(m, '.', function(c) return string.format('%02x', string.byte(c)) end)
  keys[#keys + 1] = ARGV[1] .. string.sub(hex, 1, 8) .. '-' .. string.sub(hex, 9, 12) .. '-' ..
    string.sub(hex, 13, 16) .. '-' .. string.sub(hex, 17, 20) .. '-' .. string.sub(hex, 21, 32)
end
for i = 1, #keys, 500 do
  redis.call('DEL', unpack(keys, i, math.min(i + 499, #keys)))
end
return #keys
`;
