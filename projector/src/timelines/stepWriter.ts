import { randomUUID } from 'node:crypto';
import {
  Cluster,
  encodeTweetBody,
  homeLayout,
  timelinePartition,
  type Position,
  type RedisClient,
  type TimelineKeys,
} from '@tweeter/shared';
import { CheckpointMovedError } from '../runtime/projection.ts';
import {
  effectsCommand,
  effectsScript,
  serverCalls,
  singleCall,
  tailScript,
  writeEffects,
  type EffectsCall,
} from './effectWrites.ts';
import { encodeHomeOps, EntryRecords, homeScript } from './homeScript.ts';
import { earlierLayoutGuard, encodeChunk } from './partitions/chunk.ts';
import { advanceScript } from './partitions/partitionApplier.ts';
import {
  bundleCommand,
  byHashTag,
  clusterBundleSizes,
  settleAll,
  writeHomes,
  type HomeWriteOptions,
} from './partitions/homeWrites.ts';
import { SharedEffects, type StepPlan } from './stepPlan.ts';

/**
 * `meta` fields: `checkpoint`; `busy`, the end of the step being written; `wal` and `walTo`, the
 * shared effects of a step whose homes have all landed, and that step's end.
 *
 * KEYS meta; ARGV the checkpoint the writer expects ('' for none), then field/value pairs to set,
 * then '--' and fields to delete. Returns 1, or the stored checkpoint as a table when it is not
 * the expected one (a reset, a flush, another writer): then nothing is written.
 */
const metaScript = `
local stored = redis.call('HGET', KEYS[1], 'checkpoint')
if (stored or '') ~= ARGV[1] then return { stored or '' } end
local i = 2
local sets = {}
while ARGV[i] and ARGV[i] ~= '--' do
  sets[#sets + 1] = ARGV[i]
  i = i + 1
end
if #sets > 0 then redis.call('HSET', KEYS[1], unpack(sets)) end
local dels = {}
for j = i + 1, #ARGV do dels[#dels + 1] = ARGV[j] end
if #dels > 0 then redis.call('HDEL', KEYS[1], unpack(dels)) end
return 1
`;

/** KEYS meta; ARGV the checkpoint caught up at ('' for none): sets `live` if it still holds. */
const liveScript = `
local stored = redis.call('HGET', KEYS[1], 'checkpoint')
if (stored or '') == ARGV[1] then redis.call('HSET', KEYS[1], 'live', '1') end
`;

/** Tweet bodies per MSET on one server. */
const bodiesPerMset = 500;

export type ScriptedRedis = RedisClient & {
  /**
   * The home script for a bundle of homes of one slot on a cluster, one command per size
   * (`clusterBundleSizes`: the key count is fixed, so calls route by their first key).
   */
  [bundle: `timelinesHomes${number}x`]: (...args: (string | Buffer)[]) => Promise<number>;
  /** The home script for many homes (one server), key count first. */
  timelinesHomes(numKeys: number, ...args: (string | Buffer)[]): Promise<number>;
  /** The shared effects on a bundle of keys of one slot (a cluster), one command per size. */
  [bundle: `timelinesEffects${number}x`]: (
    ...args: (string | number | Buffer)[]
  ) => Promise<number>;
  /** The shared effects on any keys (one server), key count first. */
  timelinesEffectsMany(numKeys: number, ...args: (string | number | Buffer)[]): Promise<number>;
  timelinesMeta(meta: string, ...args: string[]): Promise<1 | [string]>;
  /** A step's shared effects and checkpoint in one script (one server), key count first. */
  timelinesTail(numKeys: number, ...args: (string | number | Buffer)[]): Promise<1 | [string]>;
  timelinesLive(meta: string, checkpoint: string): Promise<null>;
  /** A partition moved past the chunks it applied (advanceScript in partitionApplier.ts). */
  timelinesAdvance(part: string, stream: string, ...args: string[]): Promise<0 | 1>;
};

/**
 * Defines the projection's scripts on a connection (EVALSHA, loading them when missing). Each
 * has a fixed key count where it can: an auto-pipelined cluster connection routes a call by its
 * first argument, which must then be a key.
 */
export function defineTimelineScripts(redis: RedisClient): void {
  for (const size of clusterBundleSizes)
    redis.defineCommand(bundleCommand(size), { lua: homeScript, numberOfKeys: 3 * size });
  redis.defineCommand('timelinesHomes', { lua: homeScript });
  for (const size of clusterBundleSizes)
    redis.defineCommand(effectsCommand(size), { lua: effectsScript, numberOfKeys: size });
  redis.defineCommand('timelinesEffectsMany', { lua: effectsScript });
  redis.defineCommand('timelinesMeta', { lua: metaScript, numberOfKeys: 1 });
  redis.defineCommand('timelinesTail', { lua: tailScript });
  redis.defineCommand('timelinesLive', { lua: liveScript, numberOfKeys: 1 });
  redis.defineCommand('timelinesAdvance', { lua: advanceScript, numberOfKeys: 2 });
}

/**
 * Writes the steps of a batch without a transaction across keys, which a Redis Cluster cannot
 * run (every command and script here touches one hash slot and declares its keys), yet exactly
 * once in effect. A step ending at position `e` after checkpoint `c`:
 *
 * 1. `busy` = e, if the checkpoint is still `c` (else: CheckpointMovedError, nothing written);
 * 2. homes: the tweet bodies of the step, then the home script for bundles of homes (on a
 *    cluster, of one home group): each operation is skipped at or below the home's stamp, so
 *    homes that landed before a crash are not written twice;
 * 3. the shared effects are recorded in `meta` (`wal`, `walTo` = e): from here on the step is
 *    decided;
 * 4. the shared effects are sent (effectWrites.ts): net effects per key and member, so they
 *    commute and can be sent again whole;
 * 5. `checkpoint` = e, `busy` and `wal` removed.
 *
 * On one server, when the step's effects fit one call (a live step's do), 3 to 5 are one script
 * (tailScript in effectWrites.ts): Redis runs it whole or not at all, so nothing is recorded in
 * `wal` and the step ends one round trip after its homes instead of three.
 *
 * After a crash in 2, the batch is planned again from `c` against a graph and lists that step 4
 * never touched, and its homes skip what landed. After a crash in 4, `recover` sends the recorded
 * effects again and moves the checkpoint to `walTo` before anything is planned. A flush or reset
 * in between fails the next meta update (the checkpoint is not `c` any more); whatever the step
 * wrote after it is wiped when the projection starts over from no checkpoint (see `setup`).
 */
export class StepWriter {
  /** Fan-out entries sent to home timelines by posts, for the benchmark. */
  readonly stats = { entries: 0 };
  private readonly redis: ScriptedRedis;

  /** The copy's partition count (`meta.partitions`), known once `recover` ran. */
  private partitions = 0;
  /** Whether the copy is live (`meta.live`): only then are the home streams written. */
  private live = false;

  constructor(
    redis: RedisClient,
    private readonly keys: TimelineKeys,
    private readonly cap: number,
    /** TIMELINES_PARTITIONS: the count a new copy gets. */
    private readonly newCopyPartitions: number,
    /** Write homes here even when the copy has partitions (a replay by the admin CLI). */
    private readonly inline: boolean,
    /** TIMELINE_STREAM_LENGTH, and the channel that wakes open streams. */
    private readonly streams: { length: number; channel: string },
  ) {
    this.redis = redis as ScriptedRedis;
  }

  /**
   * The copy caught up with the log: from now on its home streams are written. A copy being built
   * (or rebuilt after a flush) streams nothing: its clients resync once it is live (a new `epoch`).
   */
  markLive(): void {
    this.live = true;
  }

  /** Whether the copy is live (readers trust it), as of `recover` or `markLive`. */
  get isLive(): boolean {
    return this.live;
  }

  private get homeWrites(): HomeWriteOptions {
    return {
      cap: this.cap,
      streamLength: this.live && !this.inline ? this.streams.length : 0,
      channel: this.streams.channel,
    };
  }

  /** The copy's partition count (0: homes are written by the step itself). */
  get partitionCount(): number {
    return this.partitions;
  }

  async write(step: StepPlan, position: Position, from: Position | null): Promise<void> {
    // A new copy's epoch tells its readers' open streams that it is not the copy they followed.
    const first =
      from === null
        ? ['partitions', String(this.partitions), 'layout', homeLayout, 'epoch', randomUUID()]
        : [];
    await this.meta(from, ['busy', position, ...first]);
    await this.writeHomes(step, position);
    const effects = step.effects;
    const calls =
      effects.size > 0 && !(this.redis instanceof Cluster) ? serverCalls(effects) : undefined;
    // One server and effects that fit one call (a live step's, as a rule): effects and checkpoint
    // in one script (tailScript), steps 3 to 5 at once.
    const tail = calls && singleCall(calls);
    if (tail) await this.tail(from, position, tail);
    else {
      if (effects.size > 0) {
        await this.meta(from, ['wal', effects.encode(), 'walTo', position]);
        await writeEffects(this.redis, effects, calls);
      }
      await this.meta(from, ['checkpoint', position], ['busy', 'wal', 'walTo']);
    }
    for (const ops of step.homes.values())
      for (const op of ops)
        if (op.kind === 'add' && !op.merge) this.stats.entries += op.entries.length;
  }

  /**
   * Finishes a step whose shared effects were recorded and maybe half sent (a crash in step 4).
   * Returns whether there was one.
   */
  async recover(): Promise<boolean> {
    const [checkpoint, wal, walTo, partitions, live] = await this.redis.hmget(
      this.keys.meta,
      'checkpoint',
      'wal',
      'walTo',
      'partitions',
      'live',
    );
    this.live = live === '1';
    // A copy keeps the partition count it was created with, until it is rebuilt.
    this.partitions = checkpoint == null ? this.newCopyPartitions : Number(partitions ?? 0);
    if (wal == null || walTo == null) return false;
    await writeEffects(this.redis, SharedEffects.decode(wal));
    await this.meta(
      (checkpoint ?? null) as Position | null,
      ['checkpoint', walTo],
      ['busy', 'wal', 'walTo'],
    );
    return true;
  }

  /** Sets and deletes `meta` fields, if the checkpoint is still `from`. */
  private async meta(from: Position | null, sets: string[], dels: string[] = []): Promise<void> {
    const reply = await this.redis.timelinesMeta(
      this.keys.meta,
      from ?? '',
      ...sets,
      '--',
      ...dels,
    );
    this.refusedUnless(from, reply);
  }

  /** Steps 3 to 5 in one script (tailScript, one server): the effects and the checkpoint. */
  private async tail(
    from: Position | null,
    position: Position,
    effects: EffectsCall,
  ): Promise<void> {
    const reply = await this.redis.timelinesTail(
      1 + effects.keys.length,
      this.keys.meta,
      ...effects.keys,
      from ?? '',
      position,
      ...effects.args,
    );
    this.refusedUnless(from, reply);
  }

  /** A meta script's reply: 1, or the stored checkpoint when it was not `from` (nothing written). */
  private refusedUnless(from: Position | null, reply: 1 | [string]): void {
    if (reply !== 1) {
      const stored = reply[0] === '' ? null : (reply[0] as Position);
      throw new CheckpointMovedError('timelines', from, stored);
    }
  }

  private async writeHomes(step: StepPlan, position: Position): Promise<void> {
    const k = this.keys;
    let bodies = this.writeBodies(step);
    // On a Redis Cluster a tweet's body and the homes that name it are on different nodes, with
    // no order between them: the bodies land first, so that no reader finds an entry whose body
    // is not there yet (a home stream would take the tweet for deleted and leave it out). One
    // server runs the commands of this connection in order.
    if (this.redis instanceof Cluster && bodies.length > 0) {
      await settleAll(bodies);
      bodies = [];
    }
    const options = this.homeWrites;
    const records = new EntryRecords();
    const streaming = options.streamLength > 0;
    // Each home encoded as it is written: Redis runs the first calls while the rest are encoded.
    const encoded = function* () {
      for (const [userId, ops] of step.homes)
        yield { userId, ops: encodeHomeOps(ops, records, streaming) };
    };
    const partitions = this.partitions;
    if (partitions === 0) return writeHomes(this.redis, k, options, encoded(), bodies);
    if (this.inline) {
      // Written here, and each partition's checkpoint moved past the step after its homes.
      await writeHomes(this.redis, k, options, encoded(), bodies);
      await settleAll(
        Array.from({ length: partitions }, (_, p) =>
          this.redis.hset(k.partition(p), 'checkpoint', position),
        ),
      );
      return;
    }
    const homes = [...encoded()];
    const byPartition = Array.from({ length: partitions }, () => [] as typeof homes);
    for (const home of homes) byPartition[timelinePartition(home.userId, partitions)]!.push(home);
    // Every partition gets a chunk, empty or not: its checkpoint then passes every step.
    await settleAll([
      ...bodies,
      ...byPartition.map((list, p) =>
        this.redis.xadd(
          k.fanout(p),
          '*',
          'to',
          position,
          'stream',
          String(options.streamLength),
          'homeOps',
          encodeChunk(list),
          'homes',
          earlierLayoutGuard,
        ),
      ),
    ]);
  }

  /**
   * The step's tweet bodies in MSETs of up to `bodiesPerMset` (a lone body: a SET); on a Redis
   * Cluster an MSET names keys of one slot, so the bodies of one tag go together (body keys are
   * tagged by a group of tweets, timelineKeys.ts: the 50,000 bodies of a catch-up step go in a few
   * hundred commands).
   */
  private writeBodies(step: StepPlan): Promise<unknown>[] {
    const k = this.keys;
    const bodies = [...step.bodies.values()].map((body): [string, string] => [
      k.tweet(body.id),
      encodeTweetBody(body),
    ]);
    const groups =
      this.redis instanceof Cluster ? byHashTag(bodies, ([key]) => key).values() : [bodies];
    const writes: Promise<unknown>[] = [];
    for (const group of groups)
      for (let i = 0; i < group.length; i += bodiesPerMset) {
        const pairs = group.slice(i, i + bodiesPerMset);
        writes.push(
          pairs.length === 1 ? this.redis.set(...pairs[0]!) : this.redis.mset(...pairs.flat()),
        );
      }
    return writes;
  }
}
