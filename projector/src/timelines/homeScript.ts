import { complementMember, streamIdOf, type Position } from '@tweeter/shared';
import { homeScriptPrelude } from './rules/index.ts';
import type { Entry, HomeOp } from './stepPlan.ts';

/**
 * The one script that writes home timelines. KEYS: triples (home, user hash, home stream) of homes
 * whose keys share a hash slot (on a Redis Cluster: homes of one home group; on one server, any);
 * ARGV: cap, the home streams' length (0: the copy is not live, streams are not written), the
 * time (ms), then one argument per home: its operations, packed (`encodeHomeOps`), each read with one
 * `struct.unpack`: the position, the kind, `a` (add entries: 29-byte records, the 16-byte home
 * member then 13 ASCII digits of the plain score), `m` (a merge: the same), `r` (remove: 16-byte
 * home members) or `d` (drop the home), then the stream ids of the operation (comma-separated: one
 * per record of `a`, each post's position; the operation's own for `r`; none for `m` and `d`).
 * One argument per home, not four per operation: a fan-out's homes cost the server and the client
 * a quarter of the arguments, and every home of a post shares one encoded argument.
 * Homes are written newest first (timelineKeys.ts): the score stored is the plain one negated,
 * and the boundary compares the plain score, then home members against the boundary's member
 * complemented (`bmh`, complemented only when a score ties).
 *
 * Exactly once in effect: an operation at or below the home's stamp (`s` of the user hash, the
 * position of the last operation applied) is skipped; the rest run in order and the stamp moves
 * to the last of them, in one HSET with the boundary the trims moved (a script runs whole: no
 * reader sees a home trimmed below a boundary not yet moved; nor does the server stop it half
 * way: Redis refuses a script a write for want of memory only before its first write, and SCRIPT
 * KILL only a script that has not written). A home's operations of a step are one call, so a
 * crash leaves each home either before or after all of them, and a batch applied again skips
 * what already landed.
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
  local ops = ARGV[3 + p]
  local h = redis.call('HMGET', user, 's', 'bs', 'bm', 'w', 'f')
  local stamp, bs, bm = h[1], h[2] and tonumber(h[2]), h[3]
  local bmh = nil
  -- The boundary the trims moved to (plain score as stored, home member), written at the end.
  local nbs, nbm = nil, nil
  watched = streamLength > 0 and h[4] ~= false and tonumber(h[4]) >= now
  wrote, unwatched = false, false
  local last = nil
  local at = 1
  while at <= #ops do
    local pos, kind, blob, ids
    pos, kind, blob, ids, at = struct.unpack('>Bc0c1I4c0I4c0', ops, at)
    if not stamp or earlier(stamp, pos) then
      if kind == 'a' or kind == 'm' then
        local args = {}
        -- One id per record; a fan-out's usual single record needs no split.
        local nextId = kind == 'a' and watched and #blob > 29 and string.gmatch(ids, '[^,]+')
        for i = 1, #blob, 29 do
          local m = string.sub(blob, i, i + 15)
          local sc = string.sub(blob, i + 16, i + 28)
          if kind == 'a' and streamLength > 0 then stream(feed, nextId and nextId() or ids, 'u', m) end
          -- With no boundary every entry is kept: its score is read only to compare with one.
          local kept = not bs
          if not kept then
            local score = tonumber(sc)
            kept = score > bs
            if not kept and score == bs then
              bmh = bmh or flip(bm)
              kept = not before(bmh, m)
            end
          end
          if kept then
            args[#args + 1] = '-' .. sc
            args[#args + 1] = m
          end
        end
        if #args > 0 then
          zadd(home, args)
          local low = trim(home, cap)
          if low then
            nbs, nbm = low[1], low[2]
            bs, bmh = tonumber(nbs), nbm
          end
        end
      elseif kind == 'r' then
        local members = {}
        for i = 1, #blob, 16 do members[#members + 1] = string.sub(blob, i, i + 15) end
        zrem(home, members)
        stream(feed, ids, 'd', blob)
      else
        redis.call('DEL', home, feed)
        redis.call('HDEL', user, 'bs', 'bm', 'f')
        bs, bmh, nbs, nbm, wrote, unwatched = nil, nil, nil, nil, false, false
      end
      last = pos
      applied = applied + 1
    end
  end
  if last then
    local fields = { 's', last }
    if nbs then
      fields[3], fields[4], fields[5], fields[6] = 'bs', nbs, 'bm', flip(nbm)
    end
    if wrote and not h[5] then
      fields[#fields + 1] = 'f'
      fields[#fields + 1] = '1'
    end
    redis.call('HSET', user, unpack(fields))
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

/**
 * Writes `entry`'s record at `at` of `out`: the member complemented (the home member), then the
 * plain score in 13 ASCII digits. Written in place, byte by byte: a step's records are most of
 * its encoding work, and neither a lookup nor a string per record is needed.
 */
function writeRecord(entry: Entry, out: Buffer, at: number): void {
  const { member, score } = entry;
  if (!(Number.isInteger(score) && score >= 0 && score < 1e13))
    throw new RangeError(`score ${score} out of the 13-digit range`);
  for (let i = 0; i < 16; i += 4) out.writeInt32BE(~member.readInt32BE(i), at + i);
  // 13 digits as 6 high and 7 low ones: each part fits 32-bit integer arithmetic.
  let high = Math.floor(score / 1e7);
  let low = score - high * 1e7;
  for (let i = at + entryRecordBytes - 1; i >= at + 22; i--) {
    out[i] = 0x30 + (low % 10);
    low = (low / 10) | 0;
  }
  for (let i = at + 21; i >= at + 16; i--) {
    out[i] = 0x30 + (high % 10);
    high = (high / 10) | 0;
  }
}

/** Encodes entries as the script's records, and a post's push once per step. */
export class EntryRecords {
  private readonly streamIds = new Map<Position, string>();
  private readonly pushes = new Map<
    Buffer,
    { position: Position; streaming: boolean; ops: Buffer }
  >();

  /** The stream id of a position (a post's goes to every follower's home: computed once). */
  streamId(position: Position): string {
    let id = this.streamIds.get(position);
    if (id === undefined) this.streamIds.set(position, (id = streamIdOf(position)));
    return id;
  }

  encode(entries: readonly Entry[]): Buffer {
    const blob = Buffer.allocUnsafe(entryRecordBytes * entries.length);
    for (let i = 0; i < entries.length; i++) writeRecord(entries[i]!, blob, i * entryRecordBytes);
    return blob;
  }

  /** A post's push of one entry, as one home's whole argument (`encodeHomeOps`): built once. */
  push(position: Position, entry: Entry, streaming: boolean): Buffer {
    const held = this.pushes.get(entry.member);
    if (held?.position === position && held.streaming === streaming) return held.ops;
    const ids = streaming ? this.streamId(position) : '';
    const ops = packOps([[position, kindCodes.add, this.encode([entry]), ids]]);
    this.pushes.set(entry.member, { position, streaming, ops });
    return ops;
  }
}

/** An operation's kind as the script reads it. */
export const kindCodes = { add: 0x61, merge: 0x6d, remove: 0x72, drop: 0x64 } as const;

/**
 * One home's operations as the script's argument for it (`packOps`); `streaming`: with the stream
 * ids (else none: a copy being built writes no streams).
 */
export function encodeHomeOps(
  ops: readonly HomeOp[],
  records: EntryRecords,
  streaming = true,
): Buffer {
  // A post's push is the same operation in every home it reaches: encoded once per step.
  if (ops.length === 1) {
    const op = ops[0]!;
    if (op.kind === 'add' && !op.merge && op.entries.length === 1)
      return records.push(op.position, op.entries[0]!, streaming);
  }
  return packOps(ops.map((op) => opParts(op, records, streaming)));
}

/** One operation as packed: position, kind code, records, stream ids (positions and ids ASCII). */
export type OpParts = [position: string, kind: number, blob: Buffer, ids: string];

/**
 * Operations packed as one home's argument: per operation, the position (u8 length, bytes), the
 * kind (one byte), the records (u32 length, bytes), the stream ids (u32 length, bytes).
 */
export function packOps(parts: readonly OpParts[]): Buffer {
  let length = 0;
  for (const [position, , blob, ids] of parts)
    length += 10 + position.length + blob.length + ids.length;
  const out = Buffer.allocUnsafe(length);
  let at = 0;
  for (const [position, kind, blob, ids] of parts) {
    if (position.length > 255) throw new RangeError(`position too long: ${position}`);
    out[at] = position.length;
    at += 1 + out.write(position, at + 1, 'latin1');
    out[at] = kind;
    at = out.writeUInt32BE(blob.length, at + 1);
    at += blob.copy(out, at);
    at = out.writeUInt32BE(ids.length, at);
    at += out.write(ids, at, 'latin1');
  }
  return out;
}

function opParts(op: HomeOp, records: EntryRecords, streaming: boolean): OpParts {
  switch (op.kind) {
    case 'add':
      return [
        op.position,
        op.merge ? kindCodes.merge : kindCodes.add,
        records.encode(op.entries),
        op.merge || !streaming ? '' : op.positions.map((p) => records.streamId(p)).join(','),
      ];
    case 'remove':
      return [
        op.position,
        kindCodes.remove,
        complementMember(Buffer.concat(op.members)),
        streaming ? records.streamId(op.position) : '',
      ];
    case 'drop':
      return [op.position, kindCodes.drop, Buffer.alloc(0), ''];
  }
}
