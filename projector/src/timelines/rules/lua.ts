/**
 * Lua helpers of the home script. Members are 16-byte binary tweet ids, scores epoch ms; log
 * positions are compared byte by byte (`earlier`), as the projector orders them.
 *
 * Boundary (fields `bs`, `bm` of the user hash): the home holds every entry of the true timeline
 * that is >= it (see timelineKeys.ts). The home script keeps an entry (plain score, home member)
 * that is >= the boundary (plain score, home member `bmh`: `flip` complements a member between
 * the two forms); members are compared byte by byte with `before` (Lua's `<` on strings follows
 * the server's locale, not bytes).
 * `zadd` and `zrem` chunk their arguments (Lua's stack is limited).
 */
export const luaHelpers = `
local function before(a, b)
  for i = 1, 16 do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return false
end
local function earlier(a, b)
  if a == b then return false end
  for i = 1, math.min(#a, #b) do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end
local function flip(s)
  local t = {}
  for i = 1, #s do t[i] = 255 - string.byte(s, i) end
  return string.char(unpack(t))
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
`;
