/**
 * A fan-out chunk: the home operations of one partition in one step, already encoded as the home
 * script's arguments (homeScript.ts), so the applier decodes and calls without re-planning.
 * Layout: per home, u16 id length, the id, u32 argument count, then each argument as u32 length
 * and bytes.
 */
export interface ChunkHome {
  userId: string;
  args: Buffer[];
}

export function encodeChunk(
  homes: readonly { userId: string; args: (string | Buffer)[] }[],
): Buffer {
  const parts: Buffer[] = [];
  for (const home of homes) {
    const id = Buffer.from(home.userId, 'latin1');
    const head = Buffer.allocUnsafe(6);
    head.writeUInt16BE(id.length, 0);
    head.writeUInt32BE(home.args.length, 2);
    parts.push(head.subarray(0, 2), id, head.subarray(2));
    for (const arg of home.args) {
      const bytes = typeof arg === 'string' ? Buffer.from(arg, 'latin1') : arg;
      const len = Buffer.allocUnsafe(4);
      len.writeUInt32BE(bytes.length, 0);
      parts.push(len, bytes);
    }
  }
  return Buffer.concat(parts);
}

export function decodeChunk(blob: Buffer): ChunkHome[] {
  const homes: ChunkHome[] = [];
  let at = 0;
  while (at < blob.length) {
    const idLength = blob.readUInt16BE(at);
    const userId = blob.toString('latin1', at + 2, at + 2 + idLength);
    at += 2 + idLength;
    const count = blob.readUInt32BE(at);
    at += 4;
    const args: Buffer[] = [];
    for (let i = 0; i < count; i++) {
      const length = blob.readUInt32BE(at);
      args.push(blob.subarray(at + 4, at + 4 + length));
      at += 4 + length;
    }
    homes.push({ userId, args });
  }
  return homes;
}

/**
 * The homes of chunks applied together, in order: a home named by several of them gets one entry
 * with all its operations, in chunk order (the script's arguments are the operation count, then
 * four per operation). So each home is one script call however many chunks name it: calls to one
 * home can then never land out of order (a redirected call retried after a later one would see
 * its operations below the home's stamp, and skip them).
 */
export function decodeChunks(blobs: readonly Buffer[]): ChunkHome[] {
  if (blobs.length === 1) return decodeChunk(blobs[0]!);
  const homes = new Map<string, ChunkHome>();
  for (const blob of blobs)
    for (const home of decodeChunk(blob)) {
      const held = homes.get(home.userId);
      if (!held) {
        homes.set(home.userId, home);
        continue;
      }
      const count = Number(held.args[0]!.toString()) + Number(home.args[0]!.toString());
      held.args[0] = Buffer.from(String(count), 'latin1');
      for (let i = 1; i < home.args.length; i++) held.args.push(home.args[i]!);
    }
  return [...homes.values()];
}
