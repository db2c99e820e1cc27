import { Cluster } from '@tweeter/shared';
import { byHashTag, inBundles, settleAll } from './partitions/homeWrites.ts';
import type { SharedEffects } from './stepPlan.ts';
import type { ScriptedRedis } from './stepWriter.ts';

/**
 * The script that sends a step's shared effects (SharedEffects: the net effect per key and
 * member, so the order of keys does not matter and sending them again changes nothing). KEYS:
 * keys of one hash tag on a Redis Cluster (the keys of a home group's users, in bundles of
 * `clusterBundleSizes`), any keys on one server; ARGV, per key: its header, a letter and a count
 * per command it needs, in this order (`x1` delete, `z` ZADD pairs, `r` ZREM
 * members, `s` SADD, `t` SREM, `h` HSET pairs, `i` HDEL fields; '' for none), then those
 * commands' arguments in that order. The key is deleted first, then written: a step's writes to
 * a key it deletes come after the deletion. Each command takes at most 500 members (Lua's unpack
 * limit).
 */
export const effectsScript = `
${sendEffects(1, 1)}
return #KEYS
`;

/**
 * The effects loop of `effectsScript`, over KEYS from `firstKey` on, their arguments from ARGV
 * `firstArg` on.
 */
function sendEffects(firstKey: number, firstArg: number): string {
  return `local commands = { x = 'DEL', z = 'ZADD', r = 'ZREM', s = 'SADD', t = 'SREM', h = 'HSET', i = 'HDEL' }
local widths = { x = 0, z = 2, r = 1, s = 1, t = 1, h = 2, i = 1 }
local a = ${firstArg}
for k = ${firstKey}, #KEYS do
  local key = KEYS[k]
  local header = ARGV[a]
  a = a + 1
  for op, digits in string.gmatch(header, '(%a)(%d+)') do
    local count, width = tonumber(digits), widths[op]
    if width == 0 then
      redis.call('DEL', key)
    else
      local i = 0
      while i < count do
        local n = math.min(500, count - i)
        local args = {}
        for j = 1, n * width do args[j] = ARGV[a + i * width + j - 1] end
        redis.call(commands[op], key, unpack(args))
        i = i + n
      end
      a = a + count * width
    end
  end
end`;
}

/**
 * A step's end on one server, when its shared effects fit one call: the effects and the checkpoint
 * in one script, which Redis runs whole or not at all (a crash of the projector), so no
 * write-ahead record is needed and the step ends one round trip after its homes, not three. (A
 * script is refused for memory only before its first write, and none is stopped once it wrote.)
 *
 * KEYS meta, then the effects' keys; ARGV the checkpoint the writer expects ('' for none), the
 * step's end, then the effects' arguments as `effectsScript` takes them. Returns 1, or the stored
 * checkpoint as a table when it is not the expected one: then nothing is written.
 */
export const tailScript = `
local stored = redis.call('HGET', KEYS[1], 'checkpoint')
if (stored or '') ~= ARGV[1] then return { stored or '' } end
${sendEffects(2, 3)}
redis.call('HSET', KEYS[1], 'checkpoint', ARGV[2])
redis.call('HDEL', KEYS[1], 'busy', 'wal', 'walTo')
return 1
`;

/** The command that sends the effects on a bundle of `size` keys of one slot (a cluster). */
export const effectsCommand = (size: number) => `timelinesEffects${size}x` as const;

/** Arguments per effects call on one server: many keys in one call, none too long for others. */
const argsPerCall = 5000;

/** One key's header and arguments for the effects script. */
function keyArguments(effects: SharedEffects, key: string): (string | number | Buffer)[] {
  const zadd: (number | Buffer)[] = [];
  const zrem: Buffer[] = [];
  for (const [hex, score] of effects.zsets.get(key) ?? [])
    if (score === null) zrem.push(Buffer.from(hex, 'hex'));
    else zadd.push(score, Buffer.from(hex, 'hex'));
  const sadd: string[] = [];
  const srem: string[] = [];
  for (const [member, present] of effects.sets.get(key) ?? []) (present ? sadd : srem).push(member);
  const hset: string[] = [];
  const hdel: string[] = [];
  for (const [field, value] of effects.hashes.get(key) ?? [])
    if (value === null) hdel.push(field);
    else hset.push(field, value);
  const counts: [string, number][] = [
    ['x', effects.deleted.has(key) ? 1 : 0],
    ['z', zadd.length / 2],
    ['r', zrem.length],
    ['s', sadd.length],
    ['t', srem.length],
    ['h', hset.length / 2],
    ['i', hdel.length],
  ];
  let header = '';
  for (const [letter, count] of counts) if (count > 0) header += letter + String(count);
  return [header, ...zadd, ...zrem, ...sadd, ...srem, ...hset, ...hdel];
}

/** One call of the effects script: its keys and their arguments. */
export interface EffectsCall {
  keys: string[];
  args: (string | number | Buffer)[];
}

/**
 * The effects as calls on one server: bundles of any keys, each closed once its arguments reach
 * `argsPerCall`.
 */
export function serverCalls(effects: SharedEffects): EffectsCall[] {
  const calls: EffectsCall[] = [];
  let call: EffectsCall = { keys: [], args: [] };
  for (const key of effectKeys(effects)) {
    call.keys.push(key);
    for (const arg of keyArguments(effects, key)) call.args.push(arg);
    if (call.args.length >= argsPerCall) {
      calls.push(call);
      call = { keys: [], args: [] };
    }
  }
  if (call.keys.length > 0) calls.push(call);
  return calls;
}

/** The one call `calls` make, if they are one of at most `argsPerCall` arguments. */
export function singleCall(calls: EffectsCall[]): EffectsCall | null {
  const [only] = calls;
  return calls.length === 1 && only!.args.length <= argsPerCall ? only! : null;
}

/** Every key the effects write or delete. */
function effectKeys(effects: SharedEffects): Set<string> {
  return new Set<string>([
    ...effects.deleted,
    ...effects.zsets.keys(),
    ...effects.sets.keys(),
    ...effects.hashes.keys(),
  ]);
}

/**
 * Sends the shared effects in as few script calls as the keys allow: on one server, bundles of
 * any keys; on a Redis Cluster, bundles of the keys of one hash tag (a home group's users' keys).
 * Resolves when every call has answered; rejects with the first failure once none is left
 * running. On one server, `calls` are the effects' `serverCalls` when the caller has them already.
 */
export async function writeEffects(
  redis: ScriptedRedis,
  effects: SharedEffects,
  calls?: EffectsCall[],
): Promise<void> {
  const writes: Promise<unknown>[] = [];
  if (redis instanceof Cluster) {
    // A call names a fixed number of keys (it is routed by its first): a group's keys go in
    // calls of the bundle sizes, each a command of its own.
    for (const group of byHashTag(effectKeys(effects), (key) => key).values())
      for (const bundle of inBundles(group)) {
        const args: (string | number | Buffer)[] = [];
        for (const key of bundle) for (const arg of keyArguments(effects, key)) args.push(arg);
        writes.push(redis[effectsCommand(bundle.length)]!(...bundle, ...args));
      }
  } else
    for (const { keys, args } of calls ?? serverCalls(effects))
      writes.push(redis.timelinesEffectsMany(keys.length, ...keys, ...args));
  await settleAll(writes);
}
