/**
 * `timeline-entry-bytes`: Redis bytes per entry of a full home (MEMORY USAGE, exact: SAMPLES 0),
 * against the same entries written by one ZADD into a fresh key of the same slot (what the
 * encoding itself costs, without what the projection's writes and trims left behind).
 */
import type { RedisClient } from '@tweeter/shared';
import { onOwner } from './redisTargets.ts';
import { round } from './report.ts';

export interface EntryBytes {
  entries: number;
  memoryUsage: number;
  encoding: string;
  bytesPerEntry: number;
  baselineBytesPerEntry: number;
}

/** Measures the home `key` (full name) of user `userId` on `client` (no key prefix). */
export async function entryBytes(
  client: RedisClient,
  key: string,
  scratch: string,
): Promise<EntryBytes> {
  const usage = async (k: string) =>
    Number(await onOwner(client, k, (node) => node.call('MEMORY', 'USAGE', k, 'SAMPLES', '0')));
  const entries = await client.zcard(key);
  const memoryUsage = await usage(key);
  const encoding = String(
    await onOwner(client, key, (node) => node.call('OBJECT', 'ENCODING', key)),
  );
  const flat = await client.zrangeBuffer(key, 0, -1, 'WITHSCORES');
  const args: (string | Buffer)[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) args.push(flat[i + 1]!.toString(), flat[i]!);
  let baseline = NaN;
  try {
    await client.del(scratch);
    if (args.length > 0) await client.zadd(scratch, ...args);
    baseline = await usage(scratch);
  } finally {
    await client.del(scratch);
  }
  return {
    entries,
    memoryUsage,
    encoding,
    bytesPerEntry: round(memoryUsage / entries, 1),
    baselineBytesPerEntry: round(baseline / entries, 1),
  };
}
