import {
  isReadModelSchemaName,
  readActiveCopies,
  timelineKeys,
  type ActiveCopies,
  type Logger,
  type TimelineKeys,
} from '@tweeter/shared';
import type { Kysely } from 'kysely';

/** The copies a request reads, resolved once: the read model's schema and the timelines' keys. */
export interface LiveCopies {
  readModel: string;
  timelines: TimelineKeys;
}

/**
 * The active-copy registry (`projections.active_copies`), cached for `ttlMs` so that the hot path
 * never pays a query for it, yet a zero-downtime switch reaches every instance within about that
 * time. Past the TTL the cached value is still served while one refresh runs (stale while
 * revalidate); only the very first call waits.
 */
export class ActiveCopiesCache {
  private current: LiveCopies | undefined;
  private fetchedAt = 0;
  private refreshing: Promise<LiveCopies> | undefined;

  constructor(
    private readonly db: Kysely<unknown>,
    private readonly ttlMs: number,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  get(): Promise<LiveCopies> | LiveCopies {
    const current = this.current;
    if (current && this.now() - this.fetchedAt < this.ttlMs) return current;
    const refresh = (this.refreshing ??= this.refresh());
    return current ?? refresh;
  }

  private async refresh(): Promise<LiveCopies> {
    try {
      const copies = await readActiveCopies(this.db);
      this.current = toLive(copies);
      this.fetchedAt = this.now();
      return this.current;
    } catch (error) {
      if (!this.current) throw error;
      // Keep serving the last known copies while the registry cannot be read.
      this.logger.warn({ err: error }, 'could not refresh the active-copy registry');
      return this.current;
    } finally {
      this.refreshing = undefined;
    }
  }
}

function toLive(copies: ActiveCopies): LiveCopies {
  // The schema name is in every statement (quoted by kysely): refuse anything but a plain identifier.
  if (!isReadModelSchemaName(copies['read-model']))
    throw new Error(`The registry names an invalid read-model schema: ${copies['read-model']}`);
  return { readModel: copies['read-model'], timelines: timelineKeys(copies.timelines) };
}
