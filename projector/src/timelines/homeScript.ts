import { complementMember, streamIdOf, type Position } from '@tweeter/shared';
import { homeScriptPrelude } from './rules/index.ts';
import type { Entry, HomeOp } from './stepPlan.ts';

/**
 * The one script that writes home timelines. KEYS: triples (home, user hash, home stream) of homes
 * whose keys share a hash slot (on a Redis Cluster: one home per call; on one server, many); ARGV:
 * cap, the home streams' length (0: the copy is not live, streams are not written), the time (ms),
 * then for each home the number of its operations and four arguments per operation: the position,
 * `a` (add entries: 29-byte records, the 16-byte home member then 13 ASCII digits of the plain
 * score), `m` (a merge: the same), `r` (remove: 16-byte home members) or `d` (drop the home),
 * then the stream ids of the operation (comma-separated: one per record of `a`, each post's
 * position; the operation's own for `r`; none for `m` and `d`).
 * Homes are written newest first (timelineKeys.ts): the score stored is the plain one negated,
 * and the boundary compares the plain score, then home members against the boundary's member
 * complemented (`bmh`).
 *
 * Exactly once in effect: an operation at or below the home's stamp (`s` of the user hash, the
 * position of the last operation applied) is skipped; the rest run in order and the stamp moves
 * to the last of them. A home's operations of a step are one call, so a crash leaves each home
 * either before or after all of them, and a batch applied again skips what already landed.
 *
 * The home stream gets an entry per tweet that arrives (`u`, whether or not it stays above the
 * boundary: it is in the timeline either way) and per removal (`d`), under the event's position
 * as its id, so it follows the home's own exactly-once rule; a follow's merge brings older tweets
 * and is not streamed. XADD is called with pcall: an id at or below the stream's last (which the
 * stamp already rules out) is skipped, never an error that would stop the script half way. Only
 * a home someone watches gets entries (`w` of the user hash, set by the query services while a
 * stream is open: watched until then, in ms); a change to a home nobody watches deletes its
 * stream if it has one (`f`), so a stream always holds every change after its first entry and a
 * client that was away longer is told to resync. Both fields come with the HMGET the script makes
 * anyway: a fan-out to homes nobody watches costs no extra command.
 */
export const homeScript = `${homeScriptPrelude}
local cap = tonumber(ARGV[1])
local streamLength = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local a = 4
local applied = 0
local watched, wrote, unwatched = false, false, false
local function stream(key, id, kind, members)
  if watched then
    redis.pcall('XADD', key, 'MAXLEN', '~', streamLength, id, 'k', kind, 'm', members)
    wrote = true
  elseif streamLength > 0 then
    unwatched = true
  end
end
for p = 1, #KEYS / 3 do
  local home, user, feed = KEYS[3 * p - 2], KEYS[3 * p - 1], KEYS[3 * p]
  local n = tonumber(ARGV[a])
  a = a + 1
  local h = redis.call('HMGET', user, 's', 'bs', 'bm', 'w', 'f')
  local stamp, bs, bmh = h[1], h[2] and tonumber(h[2]), h[3] and flip(h[3])
  watched = streamLength > 0 and h[4] ~= false and tonumber(h[4]) >= now
  wrote, unwatched = false, false
  local last = nil
  for _ = 1, n do
    local pos, kind, blob, ids = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3]
    a = a + 4
    if not stamp or earlier(stamp, pos) then
      if kind == 'a' or kind == 'm' then
        local args = {}
        -- One id per record; a fan-out's usual single record needs no split.
        local nextId = kind == 'a' and watched and #blob > 29 and string.gmatch(ids, '[^,]+')
        for i = 1, #blob, 29 do
          local m = string.sub(blob, i, i + 15)
          local sc = string.sub(blob, i + 16, i + 28)
          if kind == 'a' then stream(feed, nextId and nextId() or ids, 'u', m) end
          if keep(tonumber(sc), m, bs, bmh) then
            args[#args + 1] = '-' .. sc
            args[#args + 1] = m
          end
        end
        if #args > 0 then
          zadd(home, args)
          local low = trim(home, user, cap)
          if low then bs, bmh = low[1], low[2] end
        end
      elseif kind == 'r' then
        local members = {}
        for i = 1, #blob, 16 do members[#members + 1] = string.sub(blob, i, i + 15) end
        zrem(home, members)
        stream(feed, ids, 'd', blob)
      else
        redis.call('DEL', home, feed)
        redis.call('HDEL', user, 'bs', 'bm', 'f')
        bs, bmh, wrote, unwatched = nil, nil, false, false
      end
      last = pos
      applied = applied + 1
    end
  end
  if last then
    if wrote and not h[5] then redis.call('HSET', user, 's', last, 'f', '1')
    else redis.call('HSET', user, 's', last) end
  end
  if unwatched and h[5] then
    redis.call('DEL', feed)
    redis.call('HDEL', user, 'f')
  end
end
return applied
`;

/** An entry as the script reads it: 16-byte home member, then the plain score in 13 digits. */
const entryRecordBytes = 29;

/** Encodes entries as the script's records, each entry's record built once per step. */
export class EntryRecords {
  private readonly records = new Map<Buffer, Buffer>();
  private readonly streamIds = new Map<Position, string>();

  /** The stream id of a position (a post's goes to every follower's home: computed once). */
  streamId(position: Position): string {
    let id = this.streamIds.get(position);
    if (id === undefined) this.streamIds.set(position, (id = streamIdOf(position)));
    return id;
  }

  encode(entries: readonly Entry[]): Buffer {
    if (entries.length === 1) return this.record(entries[0]!);
    const blob = Buffer.allocUnsafe(entryRecordBytes * entries.length);
    entries.forEach((e, i) => this.record(e).copy(blob, i * entryRecordBytes));
    return blob;
  }

  private record(entry: Entry): Buffer {
    let record = this.records.get(entry.member);
    if (!record) {
      if (!(entry.score >= 0 && entry.score < 1e13))
        throw new RangeError(`score ${entry.score} out of the 13-digit range`);
      record = Buffer.allocUnsafe(entryRecordBytes);
      entry.member.copy(record, 0);
      complementMember(record.subarray(0, 16));
      record.write(String(entry.score).padStart(13, '0'), 16, 'latin1');
      this.records.set(entry.member, record);
    }
    return record;
  }
}

/**
 * The script's arguments for one home's operations (after its keys); `streaming`: with the stream
 * ids of the operations (else none: a copy being built writes no streams).
 */
export function homeArguments(
  ops: readonly HomeOp[],
  records: EntryRecords,
  streaming = true,
): (string | Buffer)[] {
  const args: (string | Buffer)[] = [String(ops.length)];
  for (const op of ops) {
    args.push(op.position satisfies Position);
    switch (op.kind) {
      case 'add':
        args.push(
          op.merge ? 'm' : 'a',
          records.encode(op.entries),
          op.merge || !streaming ? '' : op.positions.map((p) => records.streamId(p)).join(','),
        );
        break;
      case 'remove':
        args.push(
          'r',
          complementMember(Buffer.concat(op.members)),
          streaming ? records.streamId(op.position) : '',
        );
        break;
      case 'drop':
        args.push('d', '', '');
        break;
    }
  }
  return args;
}
