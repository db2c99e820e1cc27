import type { Projection } from '../runtime/projection.ts';

/** Removes a whole copy (schema / key version) where the projection can; else empties it. */
export async function dropCopy(projection: Projection): Promise<void> {
  const droppable = projection as Projection & { drop?: () => Promise<void> };
  if (typeof droppable.drop === 'function') await droppable.drop();
  else await projection.reset();
}

/**
 * The name of a rebuild's new copy, from the time it started (sortable, readable in `status`):
 * read model `read_model_20260101_120000` (a plain identifier), timelines `v20260101120000`.
 */
export function newCopyName(projection: 'read-model' | 'timelines', now = new Date()): string {
  const t = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return projection === 'read-model' ? `read_model_${t.slice(0, 8)}_${t.slice(8)}` : `v${t}`;
}
