import {
  compareStreamIds,
  decodeHomeMember,
  isDependencyFailure,
  positionOfStreamId,
  streamEntryFields,
  streamIdOf,
  type RedisClient,
  type TimelineKeys,
} from '@tweeter/shared';
import type { Request, Response } from 'express';
import type { LiveCopies } from '../core/activeCopies.ts';
import type { QueryContext } from '../core/context.ts';
import type { Tweet } from '../core/views.ts';
import type { TimelineStreams } from './timelineStreams.ts';

export interface HomeStreamOptions {
  /** A comment line this often keeps proxies from closing an idle stream; the token is rechecked. */
  heartbeatMs: number;
  /** A stream reads its home's stream at least this often, wake-ups or not. */
  pollMs: number;
  /**
   * How long the home stays watched after its last heartbeat (the projector writes the streams of
   * watched homes only): a client that reconnects within it resumes exactly, a later one resyncs.
   */
  keepMs: number;
  /** Positions carry EventStoreDB's prefix (EVENTSTORE_CONNECTION_STRING is set). */
  eventstoredb: boolean;
}

/** Entries read from a home's stream per round trip. */
const entriesPerRead = 100;

type StreamEntry = [id: Buffer, fields: Buffer[]];

/**
 * One open `GET /users/{id}/timeline/stream`: the changes of the user's home timeline as server-sent
 * events, read from the home's stream in Redis (the projector writes it with the home, under each
 * event's log position: see timelineKeys.ts). `update` carries a tweet that arrived, as the
 * timeline returns it; `delete` the ids of tweets that left (`{"ids": [...]}`: one log event can
 * remove several, e.g. an unfollow, and one message per position keeps Last-Event-ID exact);
 * `resync` says the client must read its timeline again (the copy was flushed or rebuilt, or the
 * client was away longer than the stream keeps). Every message's `id:` is a log position.
 */
export class HomeStream {
  private closed = false;
  private wakeUp: (() => void) | undefined;
  /** The copy being followed (its key namespace and epoch); null: none yet, or not live. */
  private copy: { keys: TimelineKeys; epoch: string | null } | null = null;
  /** The stream id up to which the client has everything. */
  private lastId = '0-0';
  /** Whether `lastId` was read from the home's stream (then its trimming away is noticed). */
  private lastIdInStream = false;
  /** A copy change happened while the client was following: tell it once a copy is live. */
  private owesResync = false;

  constructor(
    private readonly ctx: QueryContext,
    private readonly streams: TimelineStreams,
    private readonly options: HomeStreamOptions,
    private readonly req: Request,
    private readonly res: Response,
    private readonly userId: string,
    /** Last-Event-ID: the client had everything up to this position. */
    private readonly resumeFrom: string | null,
    private readonly resolveTweets: (copies: LiveCopies, ids: string[]) => Promise<Tweet[]>,
  ) {}

  async run(): Promise<void> {
    const { res } = this;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'private, no-store',
      Connection: 'keep-alive',
      // nginx (deploy/nginx.conf) passes the events on as they come instead of buffering them.
      'X-Accel-Buffering': 'no',
    });
    res.write(`retry: 2000\n: connected\n\n`);
    const unregister = this.streams.add(
      this.userId,
      () => this.wakeUp?.(),
      () => this.close(),
    );
    // The response's close, not the request's (which closes once its empty body is read).
    res.on('close', () => this.close());
    const heartbeat = setInterval(() => void this.beat(), this.options.heartbeatMs);
    try {
      while (!this.closed) {
        let more = false;
        try {
          more = await this.step();
        } catch (error) {
          // Redis or PostgreSQL away: keep the connection and try again at the next poll.
          if (!isDependencyFailure(error))
            this.ctx.logger.warn(
              { err: error, userId: this.userId },
              'timeline stream: read failed',
            );
        }
        if (!more) await this.sleep();
      }
    } finally {
      clearInterval(heartbeat);
      unregister();
      if (!res.writableEnded) res.end();
    }
  }

  private close(): void {
    this.closed = true;
    this.wakeUp?.();
  }

  private sleep(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, this.options.pollMs);
      this.wakeUp = done;
    });
  }

  /**
   * Marks the home watched for `keepMs` on the copy being followed (`w` of the user hash: the
   * projector writes the streams of watched homes only).
   */
  private async watch(): Promise<void> {
    if (!this.copy) return;
    await this.ctx.redis.hset(
      this.copy.keys.user(this.userId),
      'w',
      String(Date.now() + this.options.keepMs),
    );
  }

  /**
   * A heartbeat, the home's watch renewed, and the token checked again: a revoked token or a
   * deleted user ends the stream.
   */
  private async beat(): Promise<void> {
    if (this.closed) return;
    this.res.write(': heartbeat\n\n');
    try {
      await this.watch();
    } catch {
      // Redis away: the next heartbeat renews it (and a lapse only costs a resync).
    }
    try {
      await this.ctx.tokens.authenticateAs(this.req, this.userId);
    } catch (error) {
      if (isDependencyFailure(error)) return;
      this.close();
    }
  }

  /** One read of the home's stream; true when more may be waiting right away. */
  private async step(): Promise<boolean> {
    const redis = this.ctx.redis;
    const copies = await this.ctx.source.read(async (server) => server.copies.get());
    const keys = copies.timelines;
    const [live, epoch] = await redis.hmget(keys.meta, 'live', 'epoch');
    /** The home's stamp, the last operation applied to it: where a fresh start or a resync begins. */
    const stampNow = () => redis.hget(keys.user(this.userId), 's');
    if (live !== '1') {
      // Flushed or being built: nothing streams until it is live again (what the copy applies
      // meanwhile is not streamed), then the client resyncs.
      this.owesResync = true;
      this.copy = null;
      return false;
    }
    const stream = keys.stream(this.userId);
    if (
      this.copy === null ||
      this.copy.keys.namespace !== keys.namespace ||
      this.copy.epoch !== epoch
    ) {
      const starting = this.copy === null && !this.owesResync;
      this.copy = { keys, epoch: epoch ?? null };
      this.owesResync = false;
      // Watched first, then the stamp read: every change applied after that stamp is in the
      // stream (the projector writes the streams of watched homes only).
      await this.watch();
      const stamp = await stampNow();
      const resumeId = this.resumeFrom === null ? null : streamIdOf(this.resumeFrom);
      if (starting && resumeId === null) this.from(stamp);
      else if (starting && resumeId !== null && (await resumable(redis, stream, resumeId, stamp))) {
        this.lastId = resumeId;
        this.lastIdInStream = false;
      } else this.resync(stamp);
    }
    const [entries, first] = (await Promise.all([
      redis.xrangeBuffer(stream, `(${this.lastId}`, '+', 'COUNT', entriesPerRead),
      this.lastIdInStream ? redis.xrangeBuffer(stream, '-', '+', 'COUNT', 1) : null,
    ])) as [StreamEntry[], StreamEntry[] | null];
    // The entry the client has last was trimmed away while it fell behind by more than the
    // stream keeps: what followed it may be gone too.
    if (
      first &&
      (first.length === 0 || compareStreamIds(first[0]![0].toString(), this.lastId) > 0)
    ) {
      this.resync(await stampNow());
      return true;
    }
    if (entries.length === 0) return false;
    await this.send(copies, entries);
    return entries.length === entriesPerRead;
  }

  /** Starts after the home's stamp (the last operation applied to it), or its beginning. */
  private from(stamp: string | null): void {
    this.lastId = stamp === null ? '0-0' : streamIdOf(stamp);
    this.lastIdInStream = false;
  }

  private resync(stamp: string | null): void {
    this.from(stamp);
    this.write('resync', stamp, '{}');
  }

  private async send(copies: LiveCopies, entries: StreamEntry[]): Promise<void> {
    const arrived: string[] = [];
    const parsed = entries.map(([idBuffer, fields]) => {
      const id = idBuffer.toString();
      const entry = streamEntryFields(fields);
      const kind = entry.get('k')?.toString() ?? '';
      const members = entry.get('m') ?? Buffer.alloc(0);
      const ids: string[] = [];
      for (let at = 0; at + 16 <= members.length; at += 16)
        ids.push(decodeHomeMember(members.subarray(at, at + 16)));
      if (kind === 'u') arrived.push(...ids);
      return { id, kind, ids };
    });
    const tweets = new Map(
      (arrived.length > 0 ? await this.resolveTweets(copies, arrived) : []).map((t) => [t.id, t]),
    );
    for (const entry of parsed) {
      if (this.closed) return;
      const position = positionOfStreamId(entry.id, this.options.eventstoredb);
      if (entry.kind === 'u') {
        // A tweet deleted since it arrived is left out; its `delete` follows.
        for (const id of entry.ids) {
          const tweet = tweets.get(id);
          if (tweet) this.write('update', position, JSON.stringify(tweet));
        }
      } else if (entry.kind === 'd') {
        this.write('delete', position, JSON.stringify({ ids: entry.ids }));
      }
      this.lastId = entry.id;
      this.lastIdInStream = true;
    }
  }

  private write(event: string, id: string | null, data: string): void {
    if (this.closed) return;
    this.res.write(`event: ${event}\n${id === null ? '' : `id: ${id}\n`}data: ${data}\n\n`);
  }
}

/**
 * Whether a client that had everything up to stream id `last` can resume from the home's stream:
 * the stream holds every change of the home since the copy went live, so it can when `last` is
 * one of its entries or lies inside its span, or when the stream is empty and the home has not
 * changed since `last`. Otherwise the changes after `last` may have been trimmed away, or applied
 * while the copy was being built (not streamed): the client resyncs.
 */
async function resumable(
  redis: RedisClient,
  stream: string,
  last: string,
  stamp: string | null,
): Promise<boolean> {
  const [exact, first] = (await Promise.all([
    redis.xrangeBuffer(stream, last, last),
    redis.xrangeBuffer(stream, '-', '+', 'COUNT', 1),
  ])) as [StreamEntry[], StreamEntry[]];
  if (exact.length > 0) return true;
  if (first.length === 0) return stamp === null || compareStreamIds(streamIdOf(stamp), last) <= 0;
  return compareStreamIds(first[0]![0].toString(), last) < 0;
}
