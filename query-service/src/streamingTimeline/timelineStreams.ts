import { timelineStreamChannels, type Logger, type RedisClient } from '@tweeter/shared';

/**
 * The query service's side of the home streams' wake-ups: one subscriber connection per instance
 * (a pattern over every copy's channel, `timelineStreamChannel`), and the open streams by home
 * owner. A message names homes whose streams the projector just wrote; each open stream of one
 * of them reads its home's stream at once instead of at its next poll. Messages are hints: a lost
 * one (a reconnect, a failover) only delays a stream until its poll.
 */
export class TimelineStreams {
  private readonly waiting = new Map<string, Set<() => void>>();
  private readonly open = new Set<() => void>();
  private subscriber: RedisClient | undefined;
  private closed = false;

  constructor(
    /** The service's connection: the subscriber is a copy of it (one server or the cluster). */
    private readonly redis: RedisClient,
    private readonly logger: Logger,
  ) {}

  /** Streams open on this instance. */
  get size(): number {
    return this.open.size;
  }

  /**
   * Registers an open stream of `userId`'s home: `wake` is called when the projector names that
   * home, `end` when the instance shuts down. Returns the function that unregisters it.
   */
  add(userId: string, wake: () => void, end: () => void): () => void {
    if (this.closed) {
      end();
      return () => undefined;
    }
    this.subscribe();
    const key = userId.toLowerCase();
    let set = this.waiting.get(key);
    if (!set) this.waiting.set(key, (set = new Set()));
    set.add(wake);
    this.open.add(end);
    return () => {
      set.delete(wake);
      if (set.size === 0) this.waiting.delete(key);
      this.open.delete(end);
    };
  }

  /** Ends every open stream (their clients reconnect to another instance) and unsubscribes. */
  close(): void {
    this.closed = true;
    for (const end of [...this.open]) end();
    this.open.clear();
    this.subscriber?.disconnect();
    this.subscriber = undefined;
  }

  private subscribe(): void {
    if (this.subscriber) return;
    // Subscribed lazily: an instance nobody streams from holds no extra connection. The channel
    // names carry REDIS_PREFIX themselves (channels are not keys: keyPrefix does not apply).
    const subscriber = this.redis.duplicate();
    const prefix = this.redis.options.keyPrefix ?? '';
    this.subscriber = subscriber;
    subscriber.on('error', (error) =>
      this.logger.debug({ err: error }, 'timeline streams: subscriber connection error'),
    );
    subscriber.on('pmessage', (_pattern: string, _channel: string, message: string) => {
      for (const id of message.split(',')) {
        const wakes = this.waiting.get(id);
        if (wakes) for (const wake of wakes) wake();
      }
    });
    subscriber.psubscribe(timelineStreamChannels(prefix)).catch((error: unknown) => {
      this.logger.warn({ err: error }, 'timeline streams: could not subscribe; streams poll only');
    });
  }
}
