import pg from 'pg';
import type { Logger } from 'pino';

const channel = 'event_store_appended';

/**
 * Wakes subscribers when events are appended: LISTEN/NOTIFY, with polling only as a fallback.
 *
 * The NOTIFY is sent after the append commits, from its own transaction, and coalesced: at most one
 * in flight per process. A NOTIFY inside the append transaction would take PostgreSQL's global
 * notify lock until that transaction's commit is flushed, serialising every append and defeating
 * group commit. A notification lost in a crash only delays subscribers until their next poll.
 */
export class AppendWakeups {
  private sending = false;
  private sendAgain = false;
  private listener: pg.Client | undefined;
  private listening: Promise<void> | undefined;
  private closed = false;
  private readonly waiters = new Set<Waiter>();

  constructor(
    private readonly url: string,
    private readonly pool: pg.Pool,
    private readonly logger?: Logger,
  ) {}

  /** Called after an append committed. */
  signal(): void {
    if (this.sending) {
      this.sendAgain = true;
      return;
    }
    this.sending = true;
    void this.send();
  }

  private async send(): Promise<void> {
    do {
      this.sendAgain = false;
      try {
        // Losing a notification in a crash is harmless (subscribers poll), so it need not wait for fsync.
        await this.pool.query(
          `BEGIN; SET LOCAL synchronous_commit = off; NOTIFY ${channel}; COMMIT`,
        );
      } catch (error) {
        this.logger?.warn({ err: error }, 'could not notify subscribers; they will poll');
      }
    } while (this.sendAgain && !this.closed);
    this.sending = false;
  }

  waiter(): Waiter {
    const waiter = new Waiter(() => this.waiters.delete(waiter));
    this.waiters.add(waiter);
    this.listening ??= this.listen();
    return waiter;
  }

  private async listen(): Promise<void> {
    while (!this.closed) {
      const client = new pg.Client({
        connectionString: this.url,
        application_name: 'tweeter-event-store-listener',
      });
      try {
        await client.connect();
        this.listener = client;
        const ended = new Promise<void>((resolve) => {
          client.on('error', () => resolve());
          client.on('end', () => resolve());
        });
        client.on('notification', () => this.wakeAll());
        await client.query(`LISTEN ${channel}`);
        this.wakeAll(); // anything appended while we were not listening
        await ended;
      } catch (error) {
        if (!this.closed)
          this.logger?.warn({ err: error }, 'event store listener lost; reconnecting');
      } finally {
        this.listener = undefined;
        await client.end().catch(() => undefined);
      }
      if (!this.closed) await new Promise((r) => setTimeout(r, 1000));
    }
  }

  private wakeAll(): void {
    for (const waiter of this.waiters) waiter.notify();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const waiter of this.waiters) waiter.notify();
    await this.listener?.end().catch(() => undefined);
    while (this.sending) await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * One subscriber's sleep between reads. A notification can arrive for a transaction that is still
 * behind the visibility horizon (an older transaction has not committed yet); then the read finds
 * nothing, and we look again soon with a short exponential backoff instead of sleeping until the
 * next notification, which might never come (the older transaction may notify nobody).
 */
export class Waiter {
  private unsatisfied = false;
  private backoffMs = 0;
  private wake: (() => void) | undefined;

  constructor(readonly dispose: () => void) {}

  notify(): void {
    this.unsatisfied = true;
    this.backoffMs = 0;
    this.wake?.();
  }

  /** The last read returned events. */
  found(): void {
    this.unsatisfied = false;
    this.backoffMs = 0;
  }

  /** Sleeps after an empty read: briefly while a notification is unsatisfied, else up to `maxMs`. */
  wait(maxMs: number, signal?: AbortSignal): Promise<void> {
    let delay = maxMs;
    if (this.unsatisfied) {
      this.backoffMs = this.backoffMs === 0 ? 1 : this.backoffMs * 2;
      if (this.backoffMs > 512) {
        this.unsatisfied = false;
        this.backoffMs = 0;
      } else {
        delay = this.backoffMs;
      }
    }
    if (signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, delay);
      signal?.addEventListener('abort', done, { once: true });
      this.wake = done;
    });
  }
}
