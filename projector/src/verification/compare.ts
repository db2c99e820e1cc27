/**
 * Comparison of a live projection copy with one rebuilt from the log, as a readable summary:
 * which rows or keys differ and how (missing from the live copy, only in the live copy, changed
 * fields), capped so that a badly broken copy still prints a screenful, not a million lines.
 */
import type { Difference } from '../runtime/projection.ts';

export type { Difference };

type Row = Record<string, unknown>;

/** A value as shown and compared: dates as ISO text, everything else as JSON. */
const show = (value: unknown): string =>
  value instanceof Date ? JSON.stringify(value.toISOString()) : JSON.stringify(value);

const clip = (text: string, max = 80) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** Rows of one table, keyed by `key`, compared field by field. */
export function diffRows(
  table: string,
  live: readonly Row[],
  rebuilt: readonly Row[],
  key: (row: Row) => string,
): Difference[] {
  const out: Difference[] = [];
  const liveByKey = new Map(live.map((r) => [key(r), r]));
  const rebuiltByKey = new Map(rebuilt.map((r) => [key(r), r]));
  for (const [k, want] of rebuiltByKey) {
    const got = liveByKey.get(k);
    if (!got) {
      out.push({ what: `${table} ${k}`, how: 'missing from the live copy' });
      continue;
    }
    const fields = [...new Set([...Object.keys(want), ...Object.keys(got)])].filter(
      (f) => show(got[f]) !== show(want[f]),
    );
    if (fields.length > 0)
      out.push({
        what: `${table} ${k}`,
        how: fields
          .map((f) => `${f}: live ${clip(show(got[f]), 40)}, rebuilt ${clip(show(want[f]), 40)}`)
          .join('; '),
      });
  }
  for (const k of liveByKey.keys())
    if (!rebuiltByKey.has(k)) out.push({ what: `${table} ${k}`, how: 'only in the live copy' });
  return out;
}

/** Keys of two timelines snapshots (`snapshotTimelines`), compared member by member. */
export function diffKeys(
  live: Record<string, unknown>,
  rebuilt: Record<string, unknown>,
  ignore: (key: string) => boolean = () => false,
): Difference[] {
  const out: Difference[] = [];
  const keys = [...new Set([...Object.keys(live), ...Object.keys(rebuilt)])].filter(
    (k) => !ignore(k),
  );
  keys.sort();
  for (const key of keys) {
    const got = live[key];
    const want = rebuilt[key];
    if (got === undefined) out.push({ what: key, how: 'missing from the live copy' });
    else if (want === undefined) out.push({ what: key, how: 'only in the live copy' });
    else if (Array.isArray(got) && Array.isArray(want)) {
      const g = new Set(got.map(String));
      const w = new Set(want.map(String));
      const missing = [...w].filter((m) => !g.has(m));
      const extra = [...g].filter((m) => !w.has(m));
      const parts: string[] = [];
      if (missing.length > 0)
        parts.push(`${missing.length} missing (e.g. ${clip(missing[0]!, 50)})`);
      if (extra.length > 0) parts.push(`${extra.length} extra (e.g. ${clip(extra[0]!, 50)})`);
      if (parts.length === 0 && show(got) !== show(want)) parts.push('same members, other order');
      if (parts.length > 0)
        out.push({ what: key, how: `${parts.join(', ')}; live ${g.size}, rebuilt ${w.size}` });
    } else if (isRecord(got) && isRecord(want)) {
      const d = diffRows('', [{ ...got, __k: '' }], [{ ...want, __k: '' }], () => '');
      if (d.length > 0) out.push({ what: key, how: d[0]!.how });
    } else if (show(got) !== show(want))
      out.push({ what: key, how: `live ${clip(show(got))}, rebuilt ${clip(show(want))}` });
  }
  return out;
}

const isRecord = (v: unknown): v is Row => typeof v === 'object' && v !== null && !Array.isArray(v);

/** At most `max` lines, then how many more there are. */
export function summarize(differences: readonly Difference[], max = 25): string {
  const lines = differences.slice(0, max).map((d) => `  ${d.what}: ${d.how}`);
  if (differences.length > max) lines.push(`  … and ${differences.length - max} more`);
  return lines.join('\n');
}
