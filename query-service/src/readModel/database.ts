import { createHash } from 'node:crypto';
import {
  unavailable,
  type KeysetPosition,
  type Pool,
  type ReadModelDatabase,
} from '@tweeter/shared';
import type { PoolClient } from 'pg';
import {
  sql,
  Kysely,
  PostgresDialect,
  type PostgresPool,
  type PostgresPoolClient,
  type QueryCreator,
  type RawBuilder,
} from 'kysely';

/** The read model's database: every copy's schema (see shared/src/readModel/tables.ts). */
export type ReadModelDb = Kysely<ReadModelDatabase>;

/**
 * One copy of the read model, `db.withSchema(copy)` (the copy's schema comes from the active-copy
 * registry): what every repository function takes first. A transaction's `withSchema` works too.
 */
export type ReadModelCopy = QueryCreator<ReadModelDatabase>;

/** Ids as one array parameter, so a statement is the same whatever their number (`= ANY(…)`). */
export const uuidArray = (ids: readonly string[]): RawBuilder<readonly string[]> =>
  sql`${ids}::uuid[]`;

// Keyset bounds for a first page: above every real (time, uuid).
const top = { at: 'infinity', id: 'ffffffff-ffff-ffff-ffff-ffffffffffff' };

/**
 * `(time, id) < (after)`, the keyset condition of a page below `after` (the top for a first page,
 * so every page is the same statement). A row comparison, which the (…, time desc, id desc)
 * indexes serve as an index condition. Times are milliseconds throughout the product, so a Date
 * round-trips a keyset position exactly.
 */
export function keysetBelow(
  time: string,
  id: string,
  after: KeysetPosition | null,
): RawBuilder<boolean> {
  const [at, below] =
    after === null ? [top.at, top.id] : [new Date(after.at).toISOString(), after.id];
  return sql`(${sql.ref(time)}, ${sql.ref(id)}) < (${at}::timestamptz, ${below}::uuid)`;
}

export const copyOf = (db: ReadModelDb, schema: string): ReadModelCopy => db.withSchema(schema);

/**
 * Kysely over the query service's pool, with two things its stock PostgreSQL driver does not do:
 *
 * - every statement is a named (prepared) one, named by a hash of its text: PostgreSQL parses and
 *   plans it once per connection, as the hand-written queries before kysely did. The schema is in
 *   the text, so each copy has statements of its own; the statements are few (one per repository
 *   function and copy).
 * - a copy that does not exist yet (42P01 undefined table, 3F000 invalid schema: the projector has
 *   not created it) is a 503 with Retry-After, not a 500. On a read replica (`replica: true`) the
 *   error stays as it is: the copy may exist on the primary already, where the read is retried.
 */
export function createReadModelDb(pool: Pool, options: { replica?: boolean } = {}): ReadModelDb {
  const clients = new WeakMap<object, PostgresPoolClient>();
  const names = new Map<string, string>();
  const nameOf = (text: string): string => {
    let name = names.get(text);
    if (name === undefined) {
      if (names.size >= 1000) names.clear();
      name = `rm_${createHash('sha256').update(text).digest('base64url').slice(0, 22)}`;
      names.set(text, name);
    }
    return name;
  };
  // On a replica every error is a ReplicaError (its code kept), so the caller can tell a failing
  // replica from anything else a request may run into, and retry on the primary.
  const fromReplica = (error: unknown) => (options.replica ? new ReplicaError(error) : error);
  const namedStatements: PostgresPool = {
    async connect() {
      let client: PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        throw fromReplica(error);
      }
      let wrapped = clients.get(client);
      if (!wrapped) {
        wrapped = {
          query: (async (text: string, values: readonly unknown[]) => {
            try {
              return await client.query({ name: nameOf(text), text, values: [...values] });
            } catch (error) {
              const code = (error as { code?: string }).code;
              if (!options.replica && (code === '42P01' || code === '3F000'))
                throw unavailable('The read model is not set up yet; try again shortly', 2);
              throw fromReplica(error);
            }
          }) as unknown as PostgresPoolClient['query'],
          release: (destroy) => client.release(destroy),
        };
        clients.set(client, wrapped);
      }
      return wrapped;
    },
    // The pool belongs to the caller (main.ts ends it).
    end: () => Promise.resolve(),
  };
  return new Kysely<ReadModelDatabase>({ dialect: new PostgresDialect({ pool: namedStatements }) });
}

/**
 * An error of a statement (or connection) on the read replica: `cause` is the driver's error,
 * `code` its SQLSTATE or errno. The read that met it is retried on the primary.
 */
export class ReplicaError extends Error {
  override name = 'ReplicaError';
  readonly code: string | undefined;

  constructor(cause: unknown) {
    super(`read replica: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    const code = (cause as { code?: unknown } | null)?.code;
    this.code = typeof code === 'string' ? code : undefined;
  }
}
