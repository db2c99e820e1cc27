import { copyOf, type ReadModelDb } from '../readModel/database.ts';
import { authorsById, type AuthorRow } from '../readModel/users.repository.ts';

/**
 * Authors' names for timeline entries read from Redis, kept for `ttlMs`: a page of 20 tweets by a
 * handful of people would otherwise cost a query per request for data that changes rarely (a
 * display name). `fresh` requests (X-Min-Position) bypass it, so a profile change is read-your-writes.
 */
export class AuthorCache {
  private readonly entries = new Map<string, { author: AuthorRow; at: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
    private readonly maxEntries = 100_000,
  ) {}

  /** The authors that exist in the read model, by id. */
  async get(
    /** The server the request reads from (a miss is read there). */
    db: ReadModelDb,
    schema: string,
    ids: readonly string[],
    fresh: boolean,
  ): Promise<Map<string, AuthorRow>> {
    const found = new Map<string, AuthorRow>();
    const missing: string[] = [];
    const now = this.now();
    for (const id of new Set(ids)) {
      const hit = fresh ? undefined : this.entries.get(`${schema}:${id}`);
      if (hit && now - hit.at < this.ttlMs) found.set(id, hit.author);
      else missing.push(id);
    }
    if (missing.length === 0) return found;
    const rows = await authorsById(copyOf(db, schema), missing);
    if (this.entries.size + rows.length > this.maxEntries) this.entries.clear();
    for (const row of rows) {
      found.set(row.id, row);
      if (this.ttlMs > 0) this.entries.set(`${schema}:${row.id}`, { author: row, at: now });
    }
    return found;
  }
}
