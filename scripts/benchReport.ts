/**
 * The pure parts of `npm run bench` (scripts/bench-report.ts, docs/benchmarks.md): the targets, one
 * entry per figure name; reading figure lines out of a benchmark's output; setting each figure
 * against its target; the report as JSON and as markdown. No I/O here.
 */

/** The benchmarks, in the order `npm run bench` runs them: `npm run bench:<name>`. */
export const benchmarkNames = [
  'eventstore',
  'commands',
  'projector',
  'queries',
  'webhooks',
] as const;
export type BenchmarkName = (typeof benchmarkNames)[number];

/** One JSON line of a benchmark: `{"name", "value", "unit", "baseline", "ratio", …}`. */
export type Figure = Record<string, unknown> & { name: string };

export type Op = '>=' | '<=' | '<';

/**
 * One limit a figure is held to.
 *
 * - `compare: 'ratio'`: value / baseline against `limit`. The ratio is read from `ratioField` as
 *   the benchmark computed it (default `ratio` when `baselineField` is the default `baseline`);
 *   without that field it is `valueField` / `baselineField` computed here. Neither there: "no
 *   baseline".
 * - `compare: 'value'`: `valueField` itself against `limit` (in `unit`).
 */
export interface Check {
  compare: 'ratio' | 'value';
  op: Op;
  limit: number;
  /** The field holding the value (default `value`). */
  valueField?: string;
  /** The field holding the baseline (default `baseline`). */
  baselineField?: string;
  /** The field holding the ratio as the benchmark computed it. */
  ratioField?: string;
  /** The unit of `valueField` (default the figure's `unit`); a value check's limit is in it. */
  unit?: string;
  /** What the baseline is, in words. */
  against?: string;
}

export interface Target {
  benchmark: BenchmarkName;
  /** Empty: the figure has no target ("no target"). */
  checks: readonly Check[];
}

/**
 * The targets (docs/benchmarks.md), one entry per figure name. A figure printed under a name not
 * here has no target. Every ratio is value / baseline as the figure line computes it, so "≥" is
 * "at least that share of the limit" for throughputs, "≤" is "at most that multiple" for latencies.
 */
export const targets: Readonly<Record<string, Target>> = {
  'eventstore-append': {
    benchmark: 'eventstore',
    checks: [
      {
        compare: 'ratio',
        op: '>=',
        limit: 0.6,
        against: 'raw single-row INSERTs, 16 clients',
      },
      {
        // Emmett's PostgreSQL event store, run beside ours (shared/bench/emmettPeer.ts).
        compare: 'ratio',
        op: '>=',
        limit: 2.5,
        baselineField: 'peerBaseline',
        ratioField: 'peerRatio',
        against: "Emmett's PostgreSQL event store, 16 appenders",
      },
    ],
  },
  'eventstore-catchup': { benchmark: 'eventstore', checks: [] },
  'post-tweet': {
    benchmark: 'commands',
    checks: [
      {
        compare: 'ratio',
        op: '>=',
        limit: 0.3,
        against: 'raw append (single-row INSERTs, 16 clients)',
      },
    ],
  },
  'replay-read-model': {
    benchmark: 'projector',
    checks: [
      {
        compare: 'ratio',
        op: '>=',
        limit: 0.5,
        against: 'raw read-model writes (plain batched SQL)',
      },
    ],
  },
  'replay-timelines': {
    benchmark: 'projector',
    checks: [
      { compare: 'ratio', op: '>=', limit: 0.6, against: 'pipelined ZADD from a Node client' },
      {
        compare: 'ratio',
        op: '>=',
        limit: 0.3,
        baselineField: 'serverBaseline',
        ratioField: 'serverRatio',
        against: 'pipelined ZADD from redis-benchmark',
      },
    ],
  },
  'post-to-timeline': {
    benchmark: 'projector',
    checks: [
      // value and baseline are p99s: ratio = p99 / the bare fan-out's p99.
      { compare: 'ratio', op: '<=', limit: 1.5, against: 'bare fan-out p99' },
      { compare: 'value', op: '<=', limit: 100, unit: 'ms' },
    ],
  },
  'post-to-timeline-breakdown': { benchmark: 'projector', checks: [] },
  'timeline-entry-bytes': {
    benchmark: 'projector',
    checks: [{ compare: 'value', op: '<=', limit: 32, unit: 'bytes' }],
  },
  'listpack-insert-position': { benchmark: 'projector', checks: [] },
  'timeline-read': {
    benchmark: 'queries',
    checks: [
      { compare: 'ratio', op: '>=', limit: 0.6, against: 'bare node:http handler' },
      {
        compare: 'ratio',
        op: '<=',
        limit: 1.3,
        valueField: 'p99',
        baselineField: 'baselineP99',
        unit: 'ms',
        against: "bare node:http handler's p99",
      },
    ],
  },
  'timeline-deep-page': {
    benchmark: 'queries',
    checks: [
      // value and baseline are p99s: ratio < 1 is faster than the naive SQL.
      { compare: 'ratio', op: '<', limit: 1, against: 'naive fan-out-on-read SQL p99' },
      { compare: 'value', op: '<=', limit: 50, unit: 'ms' },
    ],
  },
  'webhook-deliveries': { benchmark: 'webhooks', checks: [] },
  'event-to-webhook': { benchmark: 'webhooks', checks: [] },
};

// ---- reading output ----------------------------------------------------------------------------

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The figure lines of a benchmark's output: JSON objects with a `name`, one a line; the rest is text. */
export function parseFigures(output: string): Figure[] {
  const figures: Figure[] = [];
  for (const raw of output.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line.startsWith('{') || !line.endsWith('}')) continue;
    try {
      const parsed: unknown = JSON.parse(line);
      if (isRecord(parsed) && typeof parsed.name === 'string' && parsed.name !== '')
        figures.push(parsed as Figure);
    } catch {
      // text that happens to look like JSON
    }
  }
  return figures;
}

/** The last `lines` lines of `text` (trailing blank lines dropped). */
export function tailLines(text: string, lines: number): string {
  const all = text.replace(/\s+$/, '').split(/\r?\n/);
  return all.slice(Math.max(0, all.length - lines)).join('\n');
}

/** `--only eventstore,projector` (or `--only=…`); every benchmark by default. */
export function parseArgs(argv: readonly string[]): { only: BenchmarkName[] } {
  let only: BenchmarkName[] = [...benchmarkNames];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    let list: string | undefined;
    if (arg === '--only') list = argv[++i];
    else if (arg.startsWith('--only=')) list = arg.slice('--only='.length);
    else throw new Error(`unknown argument ${arg} (usage: --only ${benchmarkNames.join(',')})`);
    if (!list) throw new Error('--only needs a list of benchmarks');
    const names = list
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const unknown = names.filter((n) => !(benchmarkNames as readonly string[]).includes(n));
    if (unknown.length > 0 || names.length === 0)
      throw new Error(
        `unknown benchmark ${unknown.join(', ') || '(none)'}: one of ${benchmarkNames.join(', ')}`,
      );
    // In the standard order, once each.
    only = benchmarkNames.filter((n) => names.includes(n));
  }
  return { only };
}

// ---- evaluating --------------------------------------------------------------------------------

export type CheckOutcome = 'met' | 'missed' | 'no baseline' | 'not measured';

export interface CheckResult {
  /** The limit in words: `ratio ≥ 0.6`, `p99 ≤ 1.3 × baselineP99`, `value ≤ 32 bytes`. */
  target: string;
  compare: Check['compare'];
  valueField: string;
  baselineField: string;
  op: Op;
  limit: number;
  against?: string;
  value?: number;
  baseline?: number;
  unit?: string;
  /** The number set against the limit: the ratio, or the value. */
  measured?: number;
  result: CheckOutcome;
  note?: string;
}

export type FigureOutcome = 'met' | 'missed' | 'no target' | 'incomplete' | 'not printed';

export interface FigureResult {
  benchmark: BenchmarkName;
  name: string;
  /** The name with what tells lines of one name apart: `replay-timelines (cluster)`. */
  label: string;
  value?: number;
  unit?: string;
  baseline?: number;
  baselineName?: string;
  ratio?: number;
  checks: CheckResult[];
  /** missed: a check missed; met: every check met; incomplete: some could not be evaluated. */
  result: FigureOutcome;
  /** The line as printed (absent for a figure that was not printed). */
  line?: Figure;
}

const num = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? v : undefined;
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

const opSymbol: Record<Op, string> = { '>=': '≥', '<=': '≤', '<': '<' };

export function holds(measured: number, op: Op, limit: number): boolean {
  switch (op) {
    case '>=':
      return measured >= limit;
    case '<=':
      return measured <= limit;
    case '<':
      return measured < limit;
  }
}

/** The ratio field a ratio check reads, if any. */
const ratioFieldOf = (check: Check): string | undefined =>
  check.ratioField ?? (check.baselineField === undefined ? 'ratio' : undefined);

/** A check in words. */
export function describeCheck(check: Check): string {
  const op = opSymbol[check.op];
  const valueField = check.valueField ?? 'value';
  if (check.compare === 'value')
    return `${valueField} ${op} ${check.limit}${check.unit ? ` ${check.unit}` : ''}`;
  const ratioField = ratioFieldOf(check);
  return ratioField
    ? `${ratioField} ${op} ${check.limit}`
    : `${valueField} ${op} ${check.limit} × ${check.baselineField ?? 'baseline'}`;
}

/** One check on one figure line. */
export function evaluateCheck(figure: Figure, check: Check): CheckResult {
  const valueField = check.valueField ?? 'value';
  const baselineField = check.baselineField ?? 'baseline';
  const unit = check.unit ?? str(figure.unit);
  const value = num(figure[valueField]);
  const baseline = num(figure[baselineField]);
  const base = {
    target: describeCheck(check),
    compare: check.compare,
    valueField,
    baselineField,
    op: check.op,
    limit: check.limit,
    ...(check.against ? { against: check.against } : {}),
    ...(value !== undefined ? { value } : {}),
    ...(baseline !== undefined ? { baseline } : {}),
    ...(unit ? { unit } : {}),
  };
  if (check.compare === 'value') {
    if (value === undefined) return { ...base, result: 'not measured' };
    const printedUnit = str(figure.unit);
    if (check.unit && valueField === 'value' && printedUnit && printedUnit !== check.unit)
      return {
        ...base,
        result: 'not measured',
        note: `the line's unit is ${printedUnit}, the limit's ${check.unit}`,
      };
    return {
      ...base,
      measured: value,
      result: holds(value, check.op, check.limit) ? 'met' : 'missed',
    };
  }
  const ratioField = ratioFieldOf(check);
  let measured = ratioField ? num(figure[ratioField]) : undefined;
  if (measured === undefined && value !== undefined && baseline !== undefined && baseline > 0)
    measured = value / baseline;
  if (measured === undefined) return { ...base, result: 'no baseline' };
  return { ...base, measured, result: holds(measured, check.op, check.limit) ? 'met' : 'missed' };
}

/**
 * Fields that tell apart lines of one name: the same figure on another Redis, with more projector
 * processes or fan-out partitions, under another posting pattern.
 */
const qualifierFields = ['redis', 'posting', 'processes', 'partitions'] as const;

export function figureLabel(figure: Figure): string {
  const qualifiers = qualifierFields.flatMap((k) => {
    const v = figure[k];
    if (typeof v === 'string' && v !== '') return [v];
    if (typeof v === 'number') return [`${k} ${v}`];
    return [];
  });
  return qualifiers.length > 0 ? `${figure.name} (${qualifiers.join(', ')})` : figure.name;
}

const overall = (checks: readonly CheckResult[]): FigureOutcome => {
  if (checks.length === 0) return 'no target';
  if (checks.some((c) => c.result === 'missed')) return 'missed';
  if (checks.every((c) => c.result === 'met')) return 'met';
  return 'incomplete';
};

/** A figure line against its target (from `table`). */
export function evaluateFigure(
  benchmark: BenchmarkName,
  figure: Figure,
  table: Readonly<Record<string, Target>> = targets,
): FigureResult {
  const checks = (table[figure.name]?.checks ?? []).map((c) => evaluateCheck(figure, c));
  const value = num(figure.value);
  const baseline = num(figure.baseline);
  const ratio = num(figure.ratio);
  const unit = str(figure.unit);
  const baselineName = str(figure.baselineName) ?? str(figure.baselineNote);
  return {
    benchmark,
    name: figure.name,
    label: figureLabel(figure),
    ...(value !== undefined ? { value } : {}),
    ...(unit ? { unit } : {}),
    ...(baseline !== undefined ? { baseline } : {}),
    ...(baselineName ? { baselineName } : {}),
    ...(ratio !== undefined ? { ratio } : {}),
    checks,
    result: overall(checks),
    line: figure,
  };
}

// ---- the report --------------------------------------------------------------------------------

export interface Machine {
  cores: number;
  cpuModel?: string;
  totalMemoryBytes: number;
  node: string;
  platform: string;
  loadAverageStart: number[];
  loadAverageEnd: number[];
}

/** What the runner saw of one benchmark. */
export interface BenchmarkRunInput {
  name: BenchmarkName;
  startedAt: string;
  endedAt: string;
  durationMs: number;
  exitCode: number | null;
  signal?: string | null;
  /** Why it could not be started, if it could not. */
  error?: string;
  loadAverageStart: number[];
  stdout: string;
  /** The end of its stderr (the runner keeps only the end). */
  stderr: string;
}

export interface BenchmarkRun {
  name: BenchmarkName;
  script: string;
  startedAt: string;
  endedAt: string;
  durationMs: number;
  exitCode: number | null;
  signal?: string;
  ok: boolean;
  loadAverageStart: number[];
  figures: number;
  /** Figures with a target that this benchmark did not print. */
  notPrinted: string[];
  /** The end of stderr: for a failed benchmark, or one that did not print all its figures. */
  stderrTail?: string;
  error?: string;
}

export interface Summary {
  checks: Record<CheckOutcome, number>;
  figures: number;
  noTarget: number;
  notPrinted: number;
  benchmarksOk: number;
  benchmarksFailed: number;
}

export interface Report {
  startedAt: string;
  endedAt: string;
  durationMs: number;
  interrupted: boolean;
  machine: Machine;
  benchmarks: BenchmarkRun[];
  figures: FigureResult[];
  summary: Summary;
}

export const stderrTailLines = 40;

export function buildReport(input: {
  startedAt: string;
  endedAt: string;
  durationMs: number;
  interrupted?: boolean;
  machine: Machine;
  runs: readonly BenchmarkRunInput[];
  table?: Readonly<Record<string, Target>>;
}): Report {
  const table = input.table ?? targets;
  const figures: FigureResult[] = [];
  const benchmarks = input.runs.map((run): BenchmarkRun => {
    const lines = parseFigures(run.stdout);
    figures.push(...lines.map((f) => evaluateFigure(run.name, f, table)));
    const printed = new Set(lines.map((f) => f.name));
    const notPrinted = Object.entries(table)
      .filter(([name, t]) => t.benchmark === run.name && t.checks.length > 0 && !printed.has(name))
      .map(([name]) => name);
    for (const name of notPrinted)
      figures.push({
        benchmark: run.name,
        name,
        label: name,
        checks: [],
        result: 'not printed',
      });
    const ok = run.exitCode === 0 && !run.error;
    const tail = tailLines(run.stderr, stderrTailLines);
    return {
      name: run.name,
      script: `npm run bench:${run.name}`,
      startedAt: run.startedAt,
      endedAt: run.endedAt,
      durationMs: run.durationMs,
      exitCode: run.exitCode,
      ...(run.signal ? { signal: run.signal } : {}),
      ok,
      loadAverageStart: run.loadAverageStart,
      figures: lines.length,
      notPrinted,
      ...((!ok || notPrinted.length > 0) && tail ? { stderrTail: tail } : {}),
      ...(run.error ? { error: run.error } : {}),
    };
  });
  const checks: Record<CheckOutcome, number> = {
    met: 0,
    missed: 0,
    'no baseline': 0,
    'not measured': 0,
  };
  for (const f of figures) for (const c of f.checks) checks[c.result]++;
  return {
    startedAt: input.startedAt,
    endedAt: input.endedAt,
    durationMs: input.durationMs,
    interrupted: input.interrupted ?? false,
    machine: input.machine,
    benchmarks,
    figures,
    summary: {
      checks,
      figures: figures.filter((f) => f.line).length,
      noTarget: figures.filter((f) => f.result === 'no target').length,
      notPrinted: figures.filter((f) => f.result === 'not printed').length,
      benchmarksOk: benchmarks.filter((b) => b.ok).length,
      benchmarksFailed: benchmarks.filter((b) => !b.ok).length,
    },
  };
}

// ---- markdown ----------------------------------------------------------------------------------

const whole = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const fraction = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

/** 12,345 (no decimals from 1,000 up: the JSON keeps them), 12.35, 0.6; — when absent. */
export const formatNumber = (x: number | undefined): string =>
  x === undefined ? '—' : (Math.abs(x) >= 1000 ? whole : fraction).format(x);

const quantity = (x: number | undefined, unit: string | undefined): string =>
  x === undefined ? '—' : unit ? `${formatNumber(x)} ${unit}` : formatNumber(x);

export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}

const load = (l: readonly number[]): string => l.map((x) => x.toFixed(2)).join(' ');

const cell = (text: string): string => text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');

const table = (header: readonly string[], rows: readonly (readonly string[])[]): string =>
  [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ].join('\n');

/** The rows of one figure: one a check, or one saying it has no target. */
function figureRows(f: FigureResult): string[][] {
  if (f.result === 'not printed') {
    const checks = (targets[f.name]?.checks ?? []).map(describeCheck).join('; ');
    return [[f.benchmark, f.label, '—', '—', '—', checks || '—', 'not printed']];
  }
  const named = (x: number | undefined, unit: string | undefined, name: string | undefined) =>
    x === undefined
      ? name
        ? `— (${name})`
        : '—'
      : `${quantity(x, unit)}${name ? ` (${name})` : ''}`;
  if (f.checks.length === 0) {
    const p99 = num(f.line?.p99);
    const value =
      f.value === undefined && p99 !== undefined
        ? `p99 ${quantity(p99, f.unit)}`
        : quantity(f.value, f.unit);
    return [
      [
        f.benchmark,
        f.label,
        value,
        named(f.baseline, f.unit, f.baselineName),
        formatNumber(f.ratio),
        'no target',
        'no target',
      ],
    ];
  }
  return f.checks.map((c) => {
    // A value check shows the figure's own baseline beside it; a ratio check the one it divides by.
    const own = c.compare === 'value' || c.baselineField === 'baseline';
    const baselineName = own ? (f.baselineName ?? c.against) : c.against;
    return [
      f.benchmark,
      f.label,
      quantity(c.value, c.unit),
      named(own ? f.baseline : c.baseline, own ? f.unit : c.unit, baselineName),
      formatNumber(c.compare === 'ratio' ? c.measured : f.ratio),
      c.target,
      c.note ? `${c.result} (${c.note})` : c.result,
    ];
  });
}

/** The figures table: one row per check of each figure (one row for a figure with no target). */
export function renderFiguresTable(report: Report): string {
  if (report.figures.length === 0) return '(no figures)';
  return table(
    ['benchmark', 'figure', 'value', 'baseline', 'ratio', 'target', 'result'],
    report.figures.flatMap(figureRows),
  );
}

export function renderSummary(report: Report): string {
  const s = report.summary;
  const parts = [
    `${s.checks.met} met`,
    `${s.checks.missed} missed`,
    ...(s.checks['no baseline'] ? [`${s.checks['no baseline']} no baseline`] : []),
    ...(s.checks['not measured'] ? [`${s.checks['not measured']} not measured`] : []),
  ];
  return (
    `Targets: ${parts.join(', ')}; ${s.noTarget} figure${s.noTarget === 1 ? '' : 's'} with no target` +
    (s.notPrinted ? `; ${s.notPrinted} not printed` : '') +
    `. Benchmarks: ${s.benchmarksOk} ok, ${s.benchmarksFailed} failed` +
    (report.interrupted ? ' (interrupted: the rest did not run)' : '') +
    '.'
  );
}

/** A warning when the 1-minute load average was above the core count at the start or the end. */
function busy(report: Report): string[] {
  const m = report.machine;
  const peak = Math.max(m.loadAverageStart[0] ?? 0, m.loadAverageEnd[0] ?? 0);
  if (peak <= m.cores) return [];
  return [
    '',
    `**The machine was busy**: a 1-minute load average of ${peak.toFixed(2)} on ${m.cores} cores.`,
    'The benchmarks shared it with other work; run again with nothing else busy before reading',
    'the ratios.',
  ];
}

export function renderMarkdown(report: Report): string {
  const m = report.machine;
  const out: string[] = [
    '# Benchmark report',
    '',
    `Started ${report.startedAt}, ended ${report.endedAt} (${formatDuration(report.durationMs)}).`,
    'Each figure is set against a limit measured in the same run on the same machine; its ratio is',
    'value / baseline. Absolute figures move 2–3× between days on these machines: compare ratios',
    'only, and trust a run made with nothing else busy (the load averages below say how busy).',
    '',
    '## Machine',
    '',
    table(
      ['cores', 'memory', 'Node', 'platform', 'load at start (1/5/15 min)', 'load at end'],
      [
        [
          `${m.cores}${m.cpuModel ? ` × ${m.cpuModel}` : ''}`,
          `${(m.totalMemoryBytes / 2 ** 30).toFixed(1)} GiB`,
          m.node,
          m.platform,
          load(m.loadAverageStart),
          load(m.loadAverageEnd),
        ],
      ],
    ),
    ...busy(report),
    '',
    '## Benchmarks',
    '',
    table(
      ['benchmark', 'script', 'result', 'exit code', 'duration', 'load at start', 'figures'],
      report.benchmarks.map((b) => [
        b.name,
        `\`${b.script}\``,
        b.ok ? 'ok' : 'failed',
        b.exitCode === null ? (b.signal ?? '—') : String(b.exitCode),
        formatDuration(b.durationMs),
        load(b.loadAverageStart),
        String(b.figures),
      ]),
    ),
    '',
    '## Figures',
    '',
    renderFiguresTable(report),
    '',
    renderSummary(report),
  ];
  const troubled = report.benchmarks.filter((b) => !b.ok || b.notPrinted.length > 0);
  if (troubled.length > 0) {
    out.push('', '## Failures', '');
    for (const b of troubled) {
      const why = [
        ...(!b.ok
          ? [
              b.error
                ? `could not run: ${b.error}`
                : `exited with ${b.exitCode === null ? (b.signal ?? 'no code') : b.exitCode}`,
            ]
          : []),
        ...(b.notPrinted.length > 0 ? [`did not print ${b.notPrinted.join(', ')}`] : []),
      ];
      out.push(`### ${b.name}: ${why.join('; ')}`, '');
      if (b.stderrTail) out.push(`The end of its stderr:`, '', '```text', b.stderrTail, '```', '');
    }
  }
  return `${out.join('\n').replace(/\n+$/, '')}\n`;
}
