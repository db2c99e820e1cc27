import type { ReadModelCopy } from './database.ts';

/** The position of the last event applied to this copy; null before the first. */
export async function checkpointOf(db: ReadModelCopy): Promise<string | null> {
  const row = await db.selectFrom('checkpoint').select('position').executeTakeFirst();
  return row?.position ?? null;
}
