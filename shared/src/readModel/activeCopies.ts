import { sql, type Kysely } from 'kysely';
import { lockSchemaInTransaction } from '../postgres/database.ts';
import { defaultReadModelSchema } from './tables.ts';
import { defaultTimelinesVersion } from './timelineKeys.ts';

/**
 * Which copy of each rebuildable projection readers use. A zero-downtime rebuild (#6) builds a new
 * copy beside the live one (a new schema, a new Redis key version), then switches this row in one
 * statement; the projector and the query service follow the row.
 *
 * Table `projections.active_copies(projection text primary key, copy text not null,
 * switched_at timestamptz)`. A missing table or row means the defaults.
 *
 * Which projections have copies is the projector's registry's business (projector/src/registry.ts):
 * every function here is generic over the projection names, and the projector passes its
 * registry's rebuildable projections with their default copies. Without them, the names and
 * defaults are those of the read side this package describes (what the query service reads).
 */
export interface ActiveCopiesTable<Name extends string = string> {
  projection: Name;
  /** read-model: the schema name; timelines: the Redis key version. */
  copy: string;
  switched_at: Date;
}

/** The copies of the read side's projections when the registry names none. */
export const defaultActiveCopies = Object.freeze({
  'read-model': defaultReadModelSchema,
  timelines: defaultTimelinesVersion,
});

/** The projections the read side reads through a copy (the keys of `defaultActiveCopies`). */
export type ReadSideProjection = keyof typeof defaultActiveCopies;

/** The copy of each projection named `Name`, by projection. */
export type ActiveCopies<Name extends string = ReadSideProjection> = Record<Name, string>;

export const activeCopiesSchema = 'projections';

async function ensureTable(tx: Kysely<unknown>): Promise<void> {
  // Serialise concurrent starters (CREATE ... IF NOT EXISTS can still race on the catalog) and
  // keep other services' migrators from introspecting while the table is created.
  await lockSchemaInTransaction(tx);
  await sql`CREATE SCHEMA IF NOT EXISTS projections`.execute(tx);
  await sql`
    CREATE TABLE IF NOT EXISTS projections.active_copies (
      projection text PRIMARY KEY,
      copy text NOT NULL,
      switched_at timestamptz NOT NULL DEFAULT now()
    )`.execute(tx);
}

/**
 * Creates `projections.active_copies` with a row per projection of `defaults` when missing; safe
 * to run concurrently. Existing rows are kept.
 */
export async function ensureActiveCopies<Name extends string = ReadSideProjection>(
  db: Kysely<unknown>,
  defaults: Readonly<ActiveCopies<Name>> = defaultActiveCopies as Readonly<ActiveCopies<Name>>,
): Promise<void> {
  const rows = Object.entries<string>(defaults).map(
    ([projection, copy]) => sql`(${projection}, ${copy})`,
  );
  await db.transaction().execute(async (tx) => {
    await ensureTable(tx);
    if (rows.length === 0) return;
    await sql`
      INSERT INTO projections.active_copies (projection, copy)
      VALUES ${sql.join(rows)}
      ON CONFLICT (projection) DO NOTHING`.execute(tx);
  });
}

/**
 * The copies readers use now, for each projection of `defaults` (the read side's projections
 * without it); a projection the registry has no row for, or a registry that does not exist yet,
 * has its default.
 */
export async function readActiveCopies(db: Kysely<unknown>): Promise<ActiveCopies>;
export async function readActiveCopies<Name extends string>(
  db: Kysely<unknown>,
  defaults: Readonly<ActiveCopies<Name>>,
): Promise<ActiveCopies<Name>>;
export async function readActiveCopies(
  db: Kysely<unknown>,
  defaults: Readonly<Record<string, string>> = defaultActiveCopies,
): Promise<Record<string, string>> {
  const copies: Record<string, string> = { ...defaults };
  try {
    const { rows } = await sql<{ projection: string; copy: string }>`
      SELECT projection, copy FROM projections.active_copies`.execute(db);
    for (const row of rows)
      if (Object.hasOwn(defaults, row.projection)) copies[row.projection] = row.copy;
    return copies;
  } catch (error) {
    if ((error as { code?: string }).code === '42P01') return copies; // no table yet
    throw error;
  }
}

/** Points readers (and the projector) at another copy; one statement, so the switch is atomic. */
export async function switchActiveCopy<Name extends string = ReadSideProjection>(
  db: Kysely<unknown>,
  projection: Name,
  copy: string,
): Promise<void> {
  await db.transaction().execute((tx) => ensureTable(tx));
  await sql`
    INSERT INTO projections.active_copies (projection, copy) VALUES (${projection}, ${copy})
    ON CONFLICT (projection) DO UPDATE SET copy = excluded.copy, switched_at = now()`.execute(db);
}
