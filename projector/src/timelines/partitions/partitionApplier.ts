import {
  connectRedis,
  type Logger,
  type Position,
  type RedisClient,
  type RedisServers,
  streamEntryFields,
  timelineStreamChannel,
  type TimelineKeys,
} from '@tweeter/shared';
import { AdvisoryLock, sleep } from '../../runtime/advisoryLock.ts';
import type { ScriptedRedis } from '../stepWriter.ts';
import { decodeChunk, decodeEarlierChunk, mergeChunkHomes, type ChunkHome } from './chunk.ts';
import { writeHomes } from './homeWrites.ts';

/**
 * KEYS partition hash, fan-out stream; ARGV the last chunk id the applier started from ('0' for
 * none), the chunk applied, its position, the owner, now (ms). Moves the partition past the chunk
 * and trims the stream below it, if nobody moved it meanwhile (a flush, a reset): returns 0 then.
 */
export const advanceScript = `
if (redis.call('HGET', KEYS[1], 'lastId') or '0') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'lastId', ARGV[2], 'checkpoint', ARGV[3], 'owner', ARGV[4], 'at', ARGV[5])
redis.call('XTRIM', KEYS[2], 'MINID', ARGV[2])
return 1
`;

export interface PartitionStatus {
  partition: number;
  /** held: this process applies it; free: it does not (another may). */
  state: 'held' | 'free';
  checkpoint: Position | null;
  /** Chunks applied by this process since it took the partition. */
  chunks: number;
}

export interface PartitionApplierOptions {
  partition: number;
  /** The projection's connection (auto-pipelined), for every command but the blocking reads. */
  writer: ScriptedRedis;
  /** Where Redis is: the blocking stream reads get a connection of their own. */
  redis: RedisServers;
  redisPrefix: string;
  keys: TimelineKeys;
  cap: number;
  databaseUrl: string;
  /** The lock's name: one applier per partition of a copy, across processes. */
  lockName: string;
  owner: string;
  logger: Logger;
}

/**
 * Applies one partition's fan-out chunks, in order, while holding the partition's advisory lock:
 * each chunk's home operations (the same stamped home script as the planner's inline writes, so
 * a chunk applied twice — after a crash here, or published twice by a planner that crashed — has
 * no second effect), then the partition's checkpoint, and the stream is trimmed below it.
 */
export class PartitionApplier {
  private readonly lock: AdvisoryLock;
  private readonly stopper = new AbortController();
  private attempt: AbortController | undefined;
  private done: Promise<void> | undefined;
  private held = false;
  private checkpoint: Position | null = null;
  private chunks = 0;
  private readonly log: Logger;
  private readonly writer: ScriptedRedis;
  /** Where this partition's chunks are applied (applyChunks). */
  private readonly target: ChunkTarget;
  /** The blocking stream reads: a connection of their own (they hold it while they wait). */
  private readonly reader: RedisClient;

  constructor(private readonly options: PartitionApplierOptions) {
    this.log = options.logger.child({ partition: options.partition });
    this.lock = new AdvisoryLock(options.databaseUrl, options.lockName, this.log);
    this.writer = options.writer;
    const { keys, partition, cap, redisPrefix, owner } = options;
    const channel = timelineStreamChannel(redisPrefix, keys);
    this.target = { writer: this.writer, keys, partition, cap, channel, owner };
    this.reader = connectRedis(options.redis, options.redisPrefix, {
      lazyConnect: true,
      autoPipelining: false,
    });
    this.reader.on('error', (error) => this.log.debug({ err: error }, 'redis connection error'));
  }

  get partition(): number {
    return this.options.partition;
  }

  get isHeld(): boolean {
    return this.held;
  }

  status(): PartitionStatus {
    return {
      partition: this.options.partition,
      state: this.held ? 'held' : 'free',
      checkpoint: this.checkpoint,
      chunks: this.chunks,
    };
  }

  start(): void {
    this.done ??= this.loop();
  }

  /** Lets the partition go after the chunk in hand (another process takes it). */
  async release(): Promise<void> {
    this.stopper.abort();
    this.attempt?.abort();
    await this.done;
    this.reader.disconnect();
  }

  private async loop(): Promise<void> {
    const signal = this.stopper.signal;
    let backoffMs = 200;
    while (!signal.aborted) {
      const attempt = new AbortController();
      this.attempt = attempt;
      const acquired = await this.lock.acquire(signal, () => attempt.abort(), 500);
      if (!acquired) break;
      this.held = true;
      this.log.info('partition taken; applying its fan-out');
      try {
        await this.applyUntilAborted(attempt.signal);
        backoffMs = 200;
      } catch (error) {
        if (!attempt.signal.aborted)
          this.log.warn(
            { err: error, retryInMs: backoffMs },
            'partition: applying failed; retrying',
          );
        await sleep(backoffMs, signal);
        backoffMs = Math.min(backoffMs * 2, 5000);
      } finally {
        this.held = false;
        await this.lock.release();
      }
    }
  }

  private async applyUntilAborted(signal: AbortSignal): Promise<void> {
    const { keys, partition } = this.options;
    const part = keys.partition(partition);
    const stream = keys.fanout(partition);
    const [lastId, checkpoint] = await this.writer.hmget(part, 'lastId', 'checkpoint');
    let from = lastId ?? '0';
    this.checkpoint = (checkpoint ?? null) as Position | null;
    while (!signal.aborted) {
      const reply = await this.reader.xreadBuffer(
        'COUNT',
        16,
        'BLOCK',
        1000,
        'STREAMS',
        stream,
        from,
      );
      for (const [, entries] of reply ?? []) {
        const done = await applyChunks(this.target, entries, from, signal);
        if (done === 'moved') {
          this.log.info('partition: moved under us (a reset or flush); starting over');
          return;
        }
        if (done.chunks === 0) continue;
        from = done.lastId;
        this.checkpoint = done.checkpoint;
        this.chunks += done.chunks;
      }
    }
  }
}

/** Where chunks of one partition are applied, and by whom (the partition hash's `owner`). */
export interface ChunkTarget {
  writer: ScriptedRedis;
  keys: TimelineKeys;
  partition: number;
  cap: number;
  /** The channel that wakes the query services' open streams (timelineStreamChannel). */
  channel: string;
  owner: string;
}

/** Entries of a fan-out stream as XREAD and XRANGE give them: id, then field/value pairs. */
type StreamEntries = [Buffer, Buffer[]][];

/**
 * Applies chunks read from a partition's stream after `from` (the last chunk applied), in order,
 * a run of them with the same streaming at a time: one script call per home with its operations
 * of them all, then one move of the partition past the last (a backlog costs a round trip per
 * run, not per chunk). Returns how far it got (it stops between runs once `signal` aborts), or
 * 'moved' when the partition was moved under it (a flush, a reset, another applier).
 */
export async function applyChunks(
  target: ChunkTarget,
  entries: StreamEntries,
  from: string,
  signal?: AbortSignal,
): Promise<{ lastId: string; checkpoint: Position | null; chunks: number } | 'moved'> {
  const { writer, keys, partition } = target;
  let lastId = from;
  let checkpoint: Position | null = null;
  let applied = 0;
  for (let i = 0; i < entries.length && !signal?.aborted;) {
    const chunks = [];
    let streamLength: number | undefined;
    for (; i < entries.length; i++) {
      const [idBuffer, fields] = entries[i]!;
      const chunk = streamEntryFields(fields);
      // The planner decided whether the step streams (chunks of older versions: no).
      const streams = Number(chunk.get('stream')?.toString() ?? 0);
      if (streamLength !== undefined && streams !== streamLength) break;
      streamLength = streams;
      chunks.push({ id: idBuffer.toString(), to: chunk.get('to')?.toString() ?? '', chunk });
    }
    await writeHomes(
      writer,
      keys,
      { cap: target.cap, streamLength: streamLength ?? 0, channel: target.channel },
      mergeChunkHomes(chunks.map(({ chunk }) => homesOf(chunk))),
    );
    const last = chunks[chunks.length - 1]!;
    const moved = await writer.timelinesAdvance(
      keys.partition(partition),
      keys.fanout(partition),
      lastId,
      last.id,
      last.to,
      target.owner,
      String(Date.now()),
    );
    if (moved === 0) return 'moved';
    lastId = last.id;
    checkpoint = last.to as Position;
    applied += chunks.length;
  }
  return { lastId, checkpoint, chunks: applied };
}

/**
 * Applies here, in order, every chunk of the copy's `partitions` that no applier has applied yet:
 * a replay that writes homes itself (the admin CLI's, while no projector runs the copy) does this
 * first, or its homes' stamps would move past those chunks and an applier would skip them later.
 * An applier of a projector started meanwhile may apply the same chunks: a chunk applied twice has
 * no second effect, and whoever moved a partition first is followed. Returns the chunks applied.
 */
export async function drainPartitions(
  target: Omit<ChunkTarget, 'partition'>,
  partitions: number,
): Promise<number> {
  let drained = 0;
  for (let partition = 0; partition < partitions; partition++) {
    for (;;) {
      const [lastId] = await target.writer.hmget(target.keys.partition(partition), 'lastId');
      const from = lastId ?? '0';
      const entries = (await target.writer.xrangeBuffer(
        target.keys.fanout(partition),
        `(${from}`,
        '+',
        'COUNT',
        64,
      )) as StreamEntries;
      if (entries.length === 0) break;
      const done = await applyChunks({ ...target, partition }, entries, from);
      if (done !== 'moved') drained += done.chunks;
    }
  }
  return drained;
}

/**
 * A chunk's homes: field `homeOps`, or `ops` or `homes` as earlier versions wrote them (in copies
 * of an earlier home layout, which the planner wipes and rebuilds: applied meanwhile to no harm).
 */
function homesOf(chunk: Map<string, Buffer>): ChunkHome[] {
  const current = chunk.get('homeOps');
  if (current) return decodeChunk(current);
  const ops = chunk.get('ops');
  if (ops) return decodeChunk(ops);
  const earlier = chunk.get('homes');
  return earlier ? decodeEarlierChunk(earlier) : [];
}
