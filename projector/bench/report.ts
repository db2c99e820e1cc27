/** How the projector benchmark prints its figures (docs/benchmarks.md): one JSON line each. */

/** One figure on stdout, as a JSON line. */
export const print = (line: Record<string, unknown>): void => console.log(JSON.stringify(line));

/** Progress and context on stderr, so stdout carries only the figures. */
export const note = (text: string): void => console.error(`# ${text}`);

export const round = (x: number, digits = 0): number =>
  Number.isFinite(x) ? Number(x.toFixed(digits)) : x;

/** A ratio rounded to 2 digits, or null when either side is missing. */
export const ratio = (value: number | undefined, baseline: number | undefined): number | null =>
  value === undefined || baseline === undefined || !(baseline > 0)
    ? null
    : round(value / baseline, 2);

/** The p-quantile (0..1) of `xs` (nearest rank); NaN when empty. */
export function quantile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

/** p50 and p99 of latencies in ms, rounded to 0.1 ms. */
export const p50p99 = (xs: readonly number[]): { p50: number; p99: number } => ({
  p50: round(quantile(xs, 0.5), 1),
  p99: round(quantile(xs, 0.99), 1),
});

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** A numeric environment knob `BENCH_<NAME>`. */
export const knob = (name: string, fallback: number): number => {
  const v = process.env[`BENCH_${name.toUpperCase()}`];
  return v ? Number(v) : fallback;
};

/** A list knob `BENCH_<NAME>` (comma-separated, each trimmed); unset or empty: undefined. */
export const listKnob = (name: string): string[] | undefined => {
  const v = process.env[`BENCH_${name.toUpperCase()}`];
  return v ? v.split(',').map((s) => s.trim()) : undefined;
};

/** Sections a section needs run before it (the live posting needs both replays done). */
const needs: Record<string, string[]> = {
  'post-to-timeline': ['replay-read-model', 'replay-timelines'],
  'timeline-entry-bytes': ['replay-timelines'],
};

/**
 * Whether BENCH_SECTIONS (a comma-separated list of figure names, e.g. `replay-timelines`) selects
 * the section `name` (its figure name, then its target in brackets), itself or as a section that
 * a selected one needs; unset: every section.
 */
function selected(name: string): boolean {
  const list = listKnob('sections');
  if (!list) return true;
  const figure = name.replace(/ \(.*$/, '');
  return list.some((s) => s === figure || (needs[s] ?? []).includes(figure));
}

/**
 * Runs one section of the benchmark (skipped when BENCH_SECTIONS leaves it out); a failure is noted and the rest runs on (never fails). With
 * `attempts` > 1 a failed section runs again after `beforeRetry` (a cluster failover by another
 * test run on the shared cluster, for one).
 */
export async function section<T>(
  name: string,
  run: () => Promise<T>,
  { attempts = 1, beforeRetry }: { attempts?: number; beforeRetry?: () => Promise<void> } = {},
): Promise<T | undefined> {
  if (!selected(name)) {
    note(`${name}: skipped (not in BENCH_SECTIONS)`);
    return undefined;
  }
  for (let attempt = 1; ; attempt++) {
    const started = performance.now();
    try {
      const result = await run();
      note(`${name}: ${round((performance.now() - started) / 1000, 1)} s`);
      return result;
    } catch (error) {
      note(
        `${name} failed (attempt ${attempt} of ${attempts}): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
      if (attempt >= attempts) return undefined;
      await beforeRetry?.();
    }
  }
}
