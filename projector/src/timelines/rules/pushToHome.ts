import { encodeTimelineMember } from '@tweeter/shared';
import type { PlanBuffer, StepTransaction } from './rule.ts';
import { homeScriptPrelude } from './trimHome.ts';

/** Entries for one home timeline, added then trimmed (consecutive adds to a home are grouped). */
export type PushToHomeOp = {
  kind: 'addEntries';
  homeOf: string;
  entries: { score: number; tweetId: string }[];
};

/**
 * Rule `pushToHome`: a posted tweet's entry goes to a home (the author's own, and each follower's
 * unless the author is a celebrity), if it is >= that home's boundary; the home is then trimmed.
 *
 * Plan: the entries for one home are grouped until another operation touches that home.
 * Redis: consecutive groups (different homes) are one call of the script below, each tweet's
 * entry record encoded once per step.
 */
export function pushToHome(buffer: PlanBuffer, home: string, score: number, tweetId: string) {
  let group = buffer.openPushes.get(home);
  if (!group) {
    group = { kind: 'addEntries', homeOf: home, entries: [] };
    buffer.openPushes.set(home, group);
    buffer.push(group, 0);
  }
  group.entries.push({ score, tweetId });
  buffer.weigh(1);
}

/**
 * KEYS pairs (home, user) of several timelines; ARGV cap, then one string of entries per pair.
 * For each pair: adds the entries >= its boundary, then trims. An entries string is a run of
 * 29-byte records (16-byte member, 13 ASCII digits of score). One call covers many homes, so a
 * tweet's fan-out to thousands of followers is a handful of commands for the client to build.
 */
export const pushToHomeScript = `${homeScriptPrelude}
local cap = tonumber(ARGV[1])
local added = 0
for p = 1, #KEYS / 2 do
  local home, user, blob = KEYS[2 * p - 1], KEYS[2 * p], ARGV[p + 1]
  local h = redis.call('HMGET', user, 'u', 'bs', 'bm')
  if h[1] then
    local bs = h[2] and tonumber(h[2])
    local args = {}
    for i = 1, #blob, 29 do
      local m = string.sub(blob, i, i + 15)
      local sc = string.sub(blob, i + 16, i + 28)
      if keep(tonumber(sc), m, bs, h[3]) then
        args[#args + 1] = sc
        args[#args + 1] = m
      end
    end
    if #args > 0 then
      zadd(home, args)
      trim(home, user, cap)
      added = added + #args / 2
    end
  end
end
return added
`;

/** An entry as the script reads it: 16-byte member, then the score in 13 ASCII digits. */
const entryRecordBytes = 29;

/** Homes per script call: large enough to amortise the call, small enough for Lua's stack. */
const bundleSize = 256;

/**
 * The pushes of one step, sent as bundles: consecutive add groups go into one script call (up to
 * `bundleSize` homes); any other operation ends the bundle, so that order is kept.
 */
export class HomePushBundler {
  private bundle: PushToHomeOp[] = [];
  /** Records of the step's tweets, encoded once per tweet. */
  private readonly records = new Map<string, Buffer>();

  constructor(private readonly tx: StepTransaction) {}

  add(op: PushToHomeOp): void {
    this.bundle.push(op);
    if (this.bundle.length >= bundleSize) this.flush();
  }

  /** Sends the open bundle, if any. */
  flush(): void {
    if (this.bundle.length === 0) return;
    const { tx } = this;
    const keys: string[] = [];
    const blobs: Buffer[] = [];
    for (const op of this.bundle) {
      keys.push(tx.keys.home(op.homeOf), tx.keys.user(op.homeOf));
      if (op.entries.length === 1) {
        blobs.push(this.record(op.entries[0]!));
      } else {
        const blob = Buffer.allocUnsafe(entryRecordBytes * op.entries.length);
        op.entries.forEach((e, i) => this.record(e).copy(blob, i * entryRecordBytes));
        blobs.push(blob);
      }
    }
    tx.multi.evalsha(tx.sha('pushToHome'), keys.length, ...keys, tx.cap, ...blobs);
    this.bundle = [];
  }

  private record(entry: { score: number; tweetId: string }): Buffer {
    let record = this.records.get(entry.tweetId);
    if (!record) {
      if (!(entry.score >= 0 && entry.score < 1e13))
        throw new RangeError(`score ${entry.score} out of the 13-digit range`);
      record = Buffer.allocUnsafe(entryRecordBytes);
      encodeTimelineMember(entry.tweetId).copy(record, 0);
      record.write(String(entry.score).padStart(13, '0'), 16, 'latin1');
      this.records.set(entry.tweetId, record);
    }
    return record;
  }
}
