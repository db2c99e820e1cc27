import { randomBytes } from 'node:crypto';
import type { CopiedDeclaration } from '../registry.ts';

/**
 * The name of a rebuild's new copy, from the time it started (sortable, readable in `status`),
 * e.g. read model `read_model_20260101_120000` (a plain identifier), timelines `v20260101120000`.
 */
export function newCopyName(declaration: CopiedDeclaration, now = new Date()): string {
  return declaration.copies.rebuildName(now.toISOString().replace(/[-:T]/g, '').slice(0, 14));
}

/** A verify's scratch copy: a name no reader or projector follows, e.g. `verify_1a2b3c4d`. */
export function scratchCopyName(declaration: CopiedDeclaration): string {
  return declaration.copies.scratchName(randomBytes(4).toString('hex'));
}
