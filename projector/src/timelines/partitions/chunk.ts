import { packOps } from '../homeScript.ts';

/**
 * A fan-out chunk: the home operations of one partition in one step, each home's already packed
 * as the home script's argument for it (`encodeHomeOps`, homeScript.ts), so the applier decodes
 * and calls without re-planning. Layout: per home, u16 id length, the id, u32 length of its
 * operations, then the operations. Stream entries carry it in the field `homeOps` (and
 * `earlierLayoutGuard` in `homes`: an applier of an earlier version, which would write the homes
 * under the keys of an earlier layout, reads `ops` or else `homes`, and fails on the guard).
 */
export interface ChunkHome {
  userId: string;
  ops: Buffer;
}

export function encodeChunk(homes: readonly ChunkHome[]): Buffer {
  let length = 0;
  for (const home of homes) length += 6 + home.userId.length + home.ops.length;
  const out = Buffer.allocUnsafe(length);
  let at = 0;
  for (const { userId, ops } of homes) {
    at = out.writeUInt16BE(userId.length, at);
    at += out.write(userId, at, 'latin1');
    at = out.writeUInt32BE(ops.length, at);
    at += ops.copy(out, at);
  }
  return out;
}

export function decodeChunk(blob: Buffer): ChunkHome[] {
  const homes: ChunkHome[] = [];
  let at = 0;
  while (at < blob.length) {
    const idLength = blob.readUInt16BE(at);
    const userId = blob.toString('latin1', at + 2, at + 2 + idLength);
    at += 2 + idLength;
    const length = blob.readUInt32BE(at);
    homes.push({ userId, ops: blob.subarray(at + 4, at + 4 + length) });
    at += 4 + length;
  }
  return homes;
}

/**
 * What a chunk carries in the earlier layout's field `homes`: one byte, which an applier of an
 * earlier version (reading `ops`, else `homes`) cannot decode. It then fails, lets the partition
 * go and tries again, instead of moving the partition past homes it did not write; an applier of
 * this version takes it.
 */
export const earlierLayoutGuard = Buffer.from([0xff]);

/**
 * A chunk of the earlier layout (field `homes`: per home, u16 id length, the id, u32 argument
 * count, then each argument as u32 length and bytes: the operation count, then position, kind,
 * records and stream ids per operation), as this one: what an earlier planner left in a stream
 * is applied the same.
 */
export function decodeEarlierChunk(blob: Buffer): ChunkHome[] {
  const homes: ChunkHome[] = [];
  let at = 0;
  const arg = () => {
    const length = blob.readUInt32BE(at);
    const value = blob.subarray(at + 4, at + 4 + length);
    at += 4 + length;
    return value;
  };
  while (at < blob.length) {
    const idLength = blob.readUInt16BE(at);
    const userId = blob.toString('latin1', at + 2, at + 2 + idLength);
    at += 2 + idLength;
    at += 4; // the argument count: 1 + 4 per operation
    const count = Number(arg().toString('latin1'));
    const ops = packOps(
      Array.from({ length: count }, () => {
        const [position, kind, records, ids] = [arg(), arg(), arg(), arg()];
        return [position.toString('latin1'), kind[0]!, records, ids.toString('latin1')] as const;
      }),
    );
    homes.push({ userId, ops });
  }
  return homes;
}

/**
 * The homes of chunks applied together, in order: a home named by several of them gets one entry
 * with all its operations, in chunk order (a home's packed operations are read to their end, so
 * two of them joined are one). So each home is one script call however many chunks name it:
 * calls to one home can then never land out of order (a redirected call retried after a later
 * one would see its operations below the home's stamp, and skip them).
 */
export function mergeChunkHomes(chunks: readonly ChunkHome[][]): ChunkHome[] {
  if (chunks.length === 1) return chunks[0]!;
  const homes = new Map<string, Buffer[]>();
  for (const chunk of chunks)
    for (const { userId, ops } of chunk) {
      const held = homes.get(userId);
      if (held) held.push(ops);
      else homes.set(userId, [ops]);
    }
  return Array.from(homes, ([userId, parts]) => ({
    userId,
    ops: parts.length === 1 ? parts[0]! : Buffer.concat(parts),
  }));
}
