import { Cluster, type TimelineKeys } from '@tweeter/shared';
import type { ScriptedRedis } from '../stepWriter.ts';

/** Homes per script call on one server: large enough to amortise the call, small for Lua's stack. */
const homesPerCall = 256;

/**
 * Sends home-script calls for homes with their encoded operations: one call per home on a
 * cluster (homes live in different slots; each call is routed to its home's master), bundles
 * of homes on one server. Resolves when every call has answered; rejects with the first failure
 * once none is left running.
 */
export async function writeHomes(
  redis: ScriptedRedis,
  keys: TimelineKeys,
  cap: number,
  homes: Iterable<{ userId: string; args: (string | Buffer)[] }>,
  before: Promise<unknown>[] = [],
): Promise<void> {
  const writes = [...before];
  const capArg = String(cap);
  if (redis instanceof Cluster) {
    for (const { userId, args } of homes)
      writes.push(redis.timelinesHome(keys.home(userId), keys.user(userId), capArg, ...args));
  } else {
    let bundleKeys: string[] = [];
    let bundleArgs: (string | Buffer)[] = [];
    const flush = () => {
      if (bundleKeys.length === 0) return;
      writes.push(redis.timelinesHomes(bundleKeys.length, ...bundleKeys, capArg, ...bundleArgs));
      bundleKeys = [];
      bundleArgs = [];
    };
    for (const { userId, args } of homes) {
      bundleKeys.push(keys.home(userId), keys.user(userId));
      for (const arg of args) bundleArgs.push(arg);
      if (bundleKeys.length >= 2 * homesPerCall) flush();
    }
    flush();
  }
  await settleAll(writes);
}

/** Waits for every write, then throws the first failure (none is left running behind). */
export async function settleAll(writes: Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(writes);
  for (const r of results) if (r.status === 'rejected') throw r.reason;
}
