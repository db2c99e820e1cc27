import { luaHelpers } from './lua.ts';

/**
 * Rule `trimHome`: a home above the cap (800) keeps its `cap` newest entries, and its boundary
 * (`bs`, `bm` of the user hash) becomes the oldest entry kept. The boundary only ever moves up:
 * entries below it are never added again (`keep`), so the home stays an exact prefix of the true
 * timeline and readers take the rest from PostgreSQL.
 *
 * It has no operation of its own: the home script (homeScript.ts) runs it right after every
 * `add`, as Lua function `trim(home, user, cap)`, which returns the new boundary (or nil).
 */
export const trimHomeLua = `local function trim(home, user, cap)
  local n = redis.call('ZCARD', home)
  if n <= cap then return nil end
  redis.call('ZREMRANGEBYRANK', home, 0, n - cap - 1)
  local low = redis.call('ZRANGE', home, 0, 0, 'WITHSCORES')
  redis.call('HSET', user, 'bs', low[2], 'bm', low[1])
  return low
end
`;

/** The prelude of the home script: the helpers and `trim`. */
export const homeScriptPrelude = `${luaHelpers}${trimHomeLua}`;
