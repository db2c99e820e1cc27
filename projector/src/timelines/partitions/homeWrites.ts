import { Cluster, type TimelineKeys } from '@tweeter/shared';
import type { ScriptedRedis } from '../stepWriter.ts';
import type { ChunkHome } from './chunk.ts';

/**
 * Homes per script call on one server: large enough to amortise the call, small for Lua's stack.
 * While the homes' streams are written (the copy is live) a call is kept short: a script holds
 * the server, so a 256-home call (about 6 ms) would hold up every other client's command, the
 * planner's next step and the query services' reads among them.
 */
const homesPerCall = 256;
const liveHomesPerCall = 32;

/** Homes named per wake-up message of the streams' channel. */
const idsPerMessage = 2000;

/** How a step's homes are written: cap, and the home streams (while the copy is live). */
export interface HomeWriteOptions {
  cap: number;
  /** Entries the home streams keep; 0: the copy is catching up, streams are not written. */
  streamLength: number;
  /** The channel that wakes the query services' open streams (timelineStreamChannel). */
  channel: string;
}

/**
 * Sends home-script calls for homes with their packed operations: one call per home on a
 * cluster (homes live in different slots; each call is routed to its home's master), bundles
 * of homes on one server. Resolves when every call has answered; rejects with the first failure
 * once none is left running. While streams are written, the homes are then named on the
 * streams' channel (a wake-up only: a lost message delays a stream by its poll, loses nothing;
 * so it is sent, not waited for).
 */
export async function writeHomes(
  redis: ScriptedRedis,
  keys: TimelineKeys,
  options: HomeWriteOptions,
  homes: readonly ChunkHome[],
  before: Promise<unknown>[] = [],
): Promise<void> {
  const writes = [...before];
  const capArg = String(options.cap);
  const streamArg = String(options.streamLength);
  // Homes watched until now or later get their streams written (the query services' clock).
  const now = String(Date.now());
  if (redis instanceof Cluster) {
    for (const { userId, ops } of homes)
      writes.push(
        redis.timelinesHome(
          keys.home(userId),
          keys.user(userId),
          keys.stream(userId),
          capArg,
          streamArg,
          now,
          ops,
        ),
      );
  } else {
    const perCall = options.streamLength > 0 ? liveHomesPerCall : homesPerCall;
    let bundleKeys: string[] = [];
    let bundleOps: Buffer[] = [];
    const flush = () => {
      if (bundleKeys.length === 0) return;
      writes.push(
        redis.timelinesHomes(
          bundleKeys.length,
          ...bundleKeys,
          capArg,
          streamArg,
          now,
          ...bundleOps,
        ),
      );
      bundleKeys = [];
      bundleOps = [];
    };
    for (const { userId, ops } of homes) {
      bundleKeys.push(keys.home(userId), keys.user(userId), keys.stream(userId));
      bundleOps.push(ops);
      if (bundleKeys.length >= 3 * perCall) flush();
    }
    flush();
  }
  await settleAll(writes);
  if (options.streamLength > 0 && homes.length > 0) {
    const wakes: Promise<unknown>[] = [];
    for (let i = 0; i < homes.length; i += idsPerMessage)
      wakes.push(
        redis.publish(
          options.channel,
          homes
            .slice(i, i + idsPerMessage)
            .map((h) => h.userId)
            .join(','),
        ),
      );
    // Not waited for: a wake-up goes out after the homes it names have landed, and one that fails
    // is caught up by the streams' polls.
    void Promise.allSettled(wakes);
  }
}

/** Waits for every write, then throws the first failure (none is left running behind). */
export async function settleAll(writes: Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(writes);
  for (const r of results) if (r.status === 'rejected') throw r.reason;
}
