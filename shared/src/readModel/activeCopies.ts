import { sql, type Kysely } from 'kysely';
import { lockSchemaInTransaction } from '../postgres/database.ts';
import { defaultReadModelSchema } from './tables.ts';
import { defaultTimelinesVersion } from './timelineKeys.ts';

/**
 * Which copy of each rebuildable projection readers use. A zero-downtime rebuild (#6) builds a new
 * copy beside the live one (a new schema, a new Redis key version), then switches this row in one
 * UPDATE; the projector and the query service follow the row.
 *
 * Table `projections.active_copies(projection text primary key, copy text not null,
 * switched_at timestamptz)`. A missing table or row means the defaults.
 */
export interface ActiveCopiesTable {
  projection: 'read-model' | 'timelines';
  /** read-model: the schema name; timelines: the Redis key version. */
  copy: string;
  switched_at: Date;
}

export interface ActiveCopies {
  'read-model': string;
  timelines: string;
}

export const defaultActiveCopies: Readonly<ActiveCopies> = Object.freeze({
  'read-model': defaultReadModelSchema,
  timelines: defaultTimelinesVersion,
});

export const activeCopiesSchema = 'projections';

/** Creates `projections.active_copies` with the default rows when missing; safe to run concurrently. */
export async function ensureActiveCopies(db: Kysely<unknown>): Promise<void> {
  await db.transaction().execute(async (tx) => {
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
    await sql`
      INSERT INTO projections.active_copies (projection, copy)
      VALUES ('read-model', ${defaultActiveCopies['read-model']}), ('timelines', ${defaultActiveCopies.timelines})
      ON CONFLICT (projection) DO NOTHING`.execute(tx);
  });
}

/** The copies readers use now; the defaults when the registry does not exist yet. */
export async function readActiveCopies(db: Kysely<unknown>): Promise<ActiveCopies> {
  try {
    const { rows } = await sql<{ projection: string; copy: string }>`
      SELECT projection, copy FROM projections.active_copies`.execute(db);
    const copies: ActiveCopies = { ...defaultActiveCopies };
    for (const row of rows) {
      if (row.projection === 'read-model' || row.projection === 'timelines')
        copies[row.projection] = row.copy;
    }
    return copies;
  } catch (error) {
    if ((error as { code?: string }).code === '42P01') return { ...defaultActiveCopies }; // no table yet
    throw error;
  }
}

/** Points readers (and the projector) at another copy; one statement, so the switch is atomic. */
export async function switchActiveCopy(
  db: Kysely<unknown>,
  projection: keyof ActiveCopies,
  copy: string,
): Promise<void> {
  await ensureActiveCopies(db);
  await sql`
    UPDATE projections.active_copies SET copy = ${copy}, switched_at = now()
    WHERE projection = ${projection}`.execute(db);
}
