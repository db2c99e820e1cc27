import { luaHelpers } from './lua.ts';

/**
 * Rule `trimHome`: a home above the cap (800) keeps its `cap` newest entries, and its boundary
 * (`bs`, `bm` of the user hash, in the plain form) becomes the oldest entry kept. The boundary only
 * ever moves up: entries below it are never added again (`keep`), so the home stays an exact
 * prefix of the true timeline and readers take the rest from PostgreSQL.
 *
 * It has no operation of its own: the home script (homeScript.ts) runs it right after every
 * `add`, as Lua function `trim(home, cap)`, which returns the new boundary as (plain score as
 * stored in `bs`, home member), or nil; the script stores it with the home's stamp. Homes are
 * stored newest first, so the oldest entries are the tail.
 */
export const trimHomeLua = `local function trim(home, cap)
  if redis.call('ZREMRANGEBYRANK', home, cap, -1) == 0 then return nil end
  local low = redis.call('ZRANGE', home, -1, -1, 'WITHSCORES')
  return { string.sub(low[2], 2), low[1] }
end
`;

/** The prelude of the home script: the helpers and `trim`. */
export const homeScriptPrelude = `${luaHelpers}${trimHomeLua}`;
