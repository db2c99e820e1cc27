import pg from 'pg';
import type { Pool } from '@tweeter/shared';

/**
 * Whether some session holds the advisory lock `name` (the runner's `lockName(projection, copy)`),
 * observed in `pg_locks` without touching the lock: trying it would make a polling standby
 * projector miss a turn. `hashtextextended` gives the 64-bit key that PostgreSQL shows split into
 * `classid` (high 32 bits) and `objid` (low 32 bits), with `objsubid` 1 for a bigint key.
 */
export async function isLockHeld(pool: Pool, name: string): Promise<boolean> {
  return (await lockHolder(pool, name)) !== null;
}

/**
 * Who holds the lock: the holder session's `application_name` (`tweeter-projector-lock` for a
 * projector, `tweeter-admin-lock` for an admin command), '' when unnamed, null when free.
 */
export async function lockHolder(pool: Pool, name: string): Promise<string | null> {
  const { rows } = await pool.query<{ holder: string | null }>(
    `SELECT coalesce(a.application_name, '') AS holder
     FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
     WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
       AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
       AND ((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended($1, 0)
     LIMIT 1`,
    [name],
  );
  return rows[0]?.holder ?? null;
}

export const adminLockApplication = 'tweeter-admin-lock';

/** A session-level advisory lock held by this process, on a connection of its own. */
export interface HeldLock {
  readonly name: string;
  release(): Promise<void>;
}

/**
 * Takes the advisory lock `name` if it is free, else returns null at once. Same key and session
 * semantics as the projector's `AdvisoryLock` (so a projector standing by for the copy waits for
 * us), but without its polling: an admin command either gets the copy or says who has it. A
 * killed admin process releases it the moment PostgreSQL sees the connection close.
 */
export async function tryLock(url: string, name: string): Promise<HeldLock | null> {
  const client = new pg.Client({
    connectionString: url,
    application_name: adminLockApplication,
    connectionTimeoutMillis: 5000,
    keepAlive: true,
  });
  client.on('error', () => undefined);
  await client.connect();
  const { rows } = await client.query<{ locked: boolean }>(
    `SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked`,
    [name],
  );
  if (!rows[0]?.locked) {
    await client.end().catch(() => undefined);
    return null;
  }
  return {
    name,
    async release() {
      // Ending the session releases the lock; the explicit unlock only makes it prompt.
      await client
        .query(`SELECT pg_advisory_unlock(hashtextextended($1, 0))`, [name])
        .catch(() => 0);
      await client.end().catch(() => undefined);
    },
  };
}
