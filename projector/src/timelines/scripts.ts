/**
 * Lua scripts of the timelines projection. They run inside the batch's MULTI, so each one sees the
 * effects of the commands before it. Members are 16-byte binary tweet ids, scores epoch ms.
 *
 * Boundary (fields `bs`, `bm` of the user hash): the home holds every entry of the true timeline
 * that is >= it (see timelineKeys.ts). `keep` tells whether an entry is >= the boundary; members
 * are compared byte by byte (Lua's `<` on strings follows the server's locale, not bytes).
 */
const common = `
local function before(a, b)
  for i = 1, 16 do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return false
end
local function keep(score, member, bs, bm)
  if not bs then return true end
  if score ~= bs then return score > bs end
  return not before(member, bm)
end
local function zadd(key, args)
  for i = 1, #args, 1000 do
    redis.call('ZADD', key, unpack(args, i, math.min(i + 999, #args)))
  end
end
local function zrem(key, members)
  for i = 1, #members, 500 do
    redis.call('ZREM', key, unpack(members, i, math.min(i + 499, #members)))
  end
end
local function trim(home, user, cap)
  local n = redis.call('ZCARD', home)
  if n > cap then
    redis.call('ZREMRANGEBYRANK', home, 0, n - cap - 1)
    local low = redis.call('ZRANGE', home, 0, 0, 'WITHSCORES')
    redis.call('HSET', user, 'bs', low[2], 'bm', low[1])
  end
end
`;

/**
 * KEYS pairs (home, user) of several timelines; ARGV cap, then one string of entries per pair.
 * For each pair: adds the entries >= its boundary, then trims. An entries string is a run of
 * 29-byte records (16-byte member, 13 ASCII digits of score). One call covers many homes, so a
 * tweet's fan-out to thousands of followers is a handful of commands for the client to build.
 */
export const addEntriesScript = `${common}
local cap = tonumber(ARGV[1])
local added = 0
for p = 1, #KEYS / 2 do
  local home, user, blob = KEYS[2 * p - 1], KEYS[2 * p], ARGV[p + 1]
  local h = redis.call('HMGET', user, 'u', 'bs', 'bm')
  if h[1] then
    local bs = h[2] and tonumber(h[2])
    local args = {}
    for i = 1, #blob, 29 do
      local m = string.sub(blob, i, i + 15)
      local sc = string.sub(blob, i + 16, i + 28)
      if keep(tonumber(sc), m, bs, h[3]) then
        args[#args + 1] = sc
        args[#args + 1] = m
      end
    end
    if #args > 0 then
      zadd(home, args)
      trim(home, user, cap)
      added = added + #args / 2
    end
  end
end
return added
`;

/**
 * KEYS home, user, followee's author list, followers of the followee, following of the follower;
 * ARGV cap, follower id, followee id, '1' to merge. Records the edge, then merges the followee's
 * newest entries (one command per follow: follows dominate a replay's command count).
 */
export const followScript = `${common}
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

/**
 * KEYS home, author list, then optionally followers of the author and following of the home's
 * owner with ARGV home owner id, author id: drops that edge too. Removes every entry of that
 * author from the home, scanning the smaller set.
 */
export const removeAuthorScript = `${common}
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

export const timelineScripts = {
  addEntries: addEntriesScript,
  follow: followScript,
  removeAuthor: removeAuthorScript,
  deleteBodies: deleteBodiesScript,
} as const;
export type TimelineScriptName = keyof typeof timelineScripts;
