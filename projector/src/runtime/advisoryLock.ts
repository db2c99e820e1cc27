import pg from 'pg';
import type { Logger } from '@tweeter/shared';

/** The lock name of one projection copy: one writer per copy across all processes. */
export const lockName = (projection: string, copy: string) =>
  `tweeter-projector:${projection}:${copy}`;

/**
 * A session-level PostgreSQL advisory lock on a connection of its own: held exactly as long as the
 * session lives, so a killed holder releases it the moment PostgreSQL sees its connection close.
 */
export class AdvisoryLock {
  private client: pg.Client | undefined;
  private lost: (() => void) | undefined;

  constructor(
    private readonly url: string,
    /** Any text; hashed to the 64-bit lock key by PostgreSQL. */
    readonly name: string,
    private readonly logger: Logger,
  ) {}

  /**
   * Waits until the lock is ours (polling every `pollMs`: the standby of a second process), or the
   * signal aborts. `onLost` is called if the session dies later; `onBusy` each time another
   * session holds it.
   */
  async acquire(
    signal: AbortSignal,
    onLost: () => void,
    pollMs = 1000,
    onBusy?: () => void,
  ): Promise<boolean> {
    let waitingLogged = false;
    while (!signal.aborted) {
      try {
        const client = this.client ?? (await this.connect());
        const { rows } = await client.query<{ locked: boolean }>(
          `SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked`,
          [this.name],
        );
        if (rows[0]?.locked) {
          this.lost = onLost;
          return true;
        }
        onBusy?.();
        if (!waitingLogged) {
          this.logger.info({ lock: this.name }, 'standing by: another process holds the lock');
          waitingLogged = true;
        }
      } catch (error) {
        this.logger.warn({ err: error, lock: this.name }, 'could not try the lock; retrying');
        await this.dropClient();
      }
      await sleep(pollMs, signal);
    }
    return false;
  }

  /** Checks the session is alive (and with it the lock); throws when it is not. */
  async check(): Promise<void> {
    if (!this.client) throw new Error(`lock ${this.name} is not held`);
    await this.client.query('SELECT 1');
  }

  async release(): Promise<void> {
    this.lost = undefined;
    const client = this.client;
    if (!client) return;
    try {
      await client.query(`SELECT pg_advisory_unlock(hashtextextended($1, 0))`, [this.name]);
    } catch {
      // the session is gone, and the lock with it
    }
    await this.dropClient();
  }

  private async connect(): Promise<pg.Client> {
    const client = new pg.Client({
      connectionString: this.url,
      application_name: `tweeter-projector-lock`,
      connectionTimeoutMillis: 5000,
      keepAlive: true,
    });
    client.on('error', (error) => {
      this.logger.warn({ err: error, lock: this.name }, 'lock session lost');
      const lost = this.lost;
      this.lost = undefined;
      void this.dropClient();
      lost?.();
    });
    await client.connect();
    this.client = client;
    return client;
  }

  private async dropClient(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
