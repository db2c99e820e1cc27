import pg from 'pg';
import { Kysely, Migrator, PostgresDialect, sql, type Migration } from 'kysely';
import { redactUrl } from '../config/config.ts';

// int8 (bigint) arrives as a string by default; counters and revisions in this product fit a JS
// number, but positions do not, so callers cast explicitly where they need bigint semantics.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export type Pool = pg.Pool;

export interface PoolOptions {
  max?: number;
  applicationName?: string;
  /** How long a new connection may take before it fails (default 5 s). */
  connectionTimeoutMillis?: number;
}

export function createPool(url: string, options: PoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'tweeter',
    connectionTimeoutMillis: options.connectionTimeoutMillis ?? 5000,
  });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  return pool;
}

/**
 * Runs `fn` in one transaction on a connection of its own: `begin` starts it (an isolation level,
 * `SET LOCAL`s), COMMIT when `fn` returns, ROLLBACK when it throws.
 */
export async function inTransaction<T>(
  pool: pg.Pool,
  begin: string,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query(begin);
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

export function createKysely<DB>(pool: pg.Pool): Kysely<DB> {
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
}

/**
 * Creates the database named in `url` when it does not exist yet, so a fresh machine needs no
 * manual `createdb`. Safe when several processes start at once.
 */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!name) throw new Error(`DATABASE_URL names no database: ${redactUrl(url)}`);
  const probe = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await probe.connect();
    return;
  } catch (error) {
    if ((error as { code?: string }).code !== '3D000') throw error; // 3D000: database does not exist
  } finally {
    await probe.end().catch(() => undefined);
  }
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({
    connectionString: admin.toString(),
    connectionTimeoutMillis: 5000,
  });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  } catch (error) {
    // 42P04 duplicate_database, 23505 a concurrent CREATE won the race: both mean it exists now.
    const code = (error as { code?: string }).code;
    if (code !== '42P04' && code !== '23505') throw error;
  } finally {
    await client.end();
  }
}

/**
 * Every change to a database's schema — migrations, a projection copy's schema, graphile-worker's
 * tables — runs under this one advisory lock. Kysely's migrator introspects the whole catalogue
 * (`pg_get_serial_sequence` on every table), which fails when another process is creating or
 * dropping tables at that moment; several services start at once on one database, so their schema
 * changes take turns. The same key serves as a session lock (`withSchemaLock`, around work that
 * uses several connections) and as a transaction lock (`lockSchemaInTransaction`, around DDL in
 * one transaction); the two forms conflict with each other, as they must.
 */
const schemaLockKey = "hashtextextended('tweeter:schema-changes', 0)";

/**
 * Runs `fn` while holding the database's schema-change lock on a connection of its own (not one
 * of the pool's, so a pool of one connection still has it free for `fn`). `fn` must not itself
 * wait for the lock on another connection.
 */
export async function withSchemaLock<T>(pool: pg.Pool, fn: () => Promise<T>): Promise<T> {
  const lock = new pg.Client({ ...pool.options, application_name: 'tweeter-schema-lock' });
  await lock.connect();
  try {
    await lock.query(`SELECT pg_advisory_lock(${schemaLockKey})`);
    return await fn();
  } finally {
    // Ending the session releases the lock, also when the unlock itself cannot be sent.
    await lock.end().catch(() => undefined);
  }
}

/** Takes the schema-change lock for the rest of the transaction `tx` (see `withSchemaLock`). */
export async function lockSchemaInTransaction(tx: Kysely<unknown>): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(${sql.raw(schemaLockKey)})`.execute(tx);
}

export interface MigrateOptions {
  /** The schema that holds the migration tables (created when missing); default `public`. */
  schema?: string;
}

/**
 * Applies one component's migrations under the schema-change lock. Each component keeps its own
 * migration table, so the event store, the read model and the dispatcher evolve independently in
 * one database.
 */
export async function migrate(
  pool: pg.Pool,
  component: string,
  migrations: Record<string, Migration>,
  options: MigrateOptions = {},
): Promise<void> {
  const db = createKysely<unknown>(pool);
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(migrations) },
    migrationTableName: options.schema ? 'migration' : `${component}_migration`,
    migrationLockTableName: options.schema ? 'migration_lock' : `${component}_migration_lock`,
    ...(options.schema ? { migrationTableSchema: options.schema } : {}),
  });
  // Kysely's destroy() would end the caller's pool; the instance holds nothing else.
  const { error, results } = await withSchemaLock(pool, () => migrator.migrateToLatest());
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(
      `Migration ${failed?.migrationName ?? '?'} of ${component} failed: ${error instanceof Error ? error.message : JSON.stringify(error)}`,
      {
        cause: error,
      },
    );
  }
}

/**
 * The URL of `databaseUrl`'s database on another server of the same cluster (a streaming replica
 * holds the primary's databases under the same names): `serverUrl` as it is when it names a
 * database itself, else `serverUrl` with the database name of `databaseUrl`.
 */
export function sameDatabaseOn(serverUrl: string, databaseUrl: string): string {
  const server = new URL(serverUrl);
  if (server.pathname.replace(/^\//, '') !== '') return serverUrl;
  server.pathname = new URL(databaseUrl).pathname;
  return server.toString();
}
