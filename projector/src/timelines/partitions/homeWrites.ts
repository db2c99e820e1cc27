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

/**
 * The sizes of the calls that write a bundle of homes on a Redis Cluster, largest first: a call
 * names a fixed number of keys (an auto-pipelined cluster connection routes it by its first
 * argument, which must then be a key), so a home group's homes go in calls of these sizes
 * (23 homes: 16 + 4 + 2 + 1), each defined as a command of its own (`bundleCommand`). The
 * largest is the live bundle of one server: a script holds its master while it runs.
 */
export const clusterBundleSizes = [32, 16, 8, 4, 2, 1] as const;

/** The command that writes a bundle of `size` homes on a cluster (defineTimelineScripts). */
export const bundleCommand = (size: number) => `timelinesHomes${size}x` as const;

/** `items` in runs of `clusterBundleSizes`, largest first (23: 16, 4, 2, 1). */
export function inBundles<T>(items: readonly T[]): T[][] {
  const bundles: T[][] = [];
  let at = 0;
  for (const size of clusterBundleSizes)
    for (; items.length - at >= size; at += size) bundles.push(items.slice(at, at + size));
  return bundles;
}

/** The hash tag of a key, which decides its slot: its `{tag}` if it has one, else the key itself. */
function hashTagOf(key: string): string {
  const open = key.indexOf('{');
  const close = open < 0 ? -1 : key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : key;
}

/** `items` by the hash tag of their key (`keyOf`): the items of one slot on a cluster together. */
export function byHashTag<T>(items: Iterable<T>, keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const tag = hashTagOf(keyOf(item));
    const group = groups.get(tag);
    if (group) group.push(item);
    else groups.set(tag, [item]);
  }
  return groups;
}

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
 * Homes issued between two turns of the event loop on one server: the calls issued so far go out
 * (an auto-pipelined connection sends on the next turn) and Redis runs them while the next homes
 * are encoded, instead of waiting for a whole catch-up step's encoding. A live step seldom reaches
 * it: its homes go at once.
 */
const homesPerTurn = 1024;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Sends home-script calls for homes with their packed operations: on a cluster, bundles of the
 * homes of one home group (`clusterBundleSizes`; each call is routed to its group's master), on
 * one server bundles of any homes, in the order given (`homes` may encode each home as it is
 * asked for: see `homesPerTurn`). Each home is in one call. Resolves when every call has
 * answered; rejects with the first failure once none is left running. While streams are
 * written, the homes are then named on the streams' channel (a wake-up only: a lost message
 * delays a stream by its poll, loses nothing; so it is sent, not waited for).
 */
export async function writeHomes(
  redis: ScriptedRedis,
  keys: TimelineKeys,
  options: HomeWriteOptions,
  homes: Iterable<ChunkHome>,
  before: Promise<unknown>[] = [],
): Promise<void> {
  const writes: Promise<unknown>[] = [];
  // Every write is settled at the end; until then a failure must not count as unhandled.
  const track = (write: Promise<unknown>) => {
    write.catch(() => undefined);
    writes.push(write);
  };
  before.forEach(track);
  const capArg = String(options.cap);
  const streamArg = String(options.streamLength);
  // Homes watched until now or later get their streams written (the query services' clock).
  const now = String(Date.now());
  const written: string[] = [];
  try {
    if (redis instanceof Cluster) {
      const keyed = [...homes].map((home) => {
        written.push(home.userId);
        return { keys: keys.homeScriptKeys(home.userId), ops: home.ops };
      });
      // A home group's keys share a tag, and a slot (timelineKeys.ts): bundled per group.
      for (const group of byHashTag(keyed, (home) => home.keys[0]).values())
        for (const bundle of inBundles(group))
          track(
            redis[bundleCommand(bundle.length)]!(
              ...bundle.flatMap((home) => home.keys),
              capArg,
              streamArg,
              now,
              ...bundle.map((home) => home.ops),
            ),
          );
    } else {
      const perCall = options.streamLength > 0 ? liveHomesPerCall : homesPerCall;
      let bundleKeys: string[] = [];
      let bundleOps: Buffer[] = [];
      const flush = () => {
        if (bundleKeys.length === 0) return;
        track(
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
      for (const home of homes) {
        bundleKeys.push(...keys.homeScriptKeys(home.userId));
        bundleOps.push(home.ops);
        written.push(home.userId);
        if (bundleKeys.length >= 3 * perCall) flush();
        if (written.length % homesPerTurn === 0) await nextTurn();
      }
      flush();
    }
  } catch (error) {
    // A home that failed to encode: the writes already issued (`before` among them) end before
    // the failure is thrown.
    await Promise.allSettled(writes);
    throw error;
  }
  await settleAll(writes);
  if (options.streamLength > 0 && written.length > 0) {
    const wakes: Promise<unknown>[] = [];
    for (let i = 0; i < written.length; i += idsPerMessage)
      wakes.push(redis.publish(options.channel, written.slice(i, i + idsPerMessage).join(',')));
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
