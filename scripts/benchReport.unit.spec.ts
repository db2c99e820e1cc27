import { describe, expect, it } from 'vitest';
import {
  benchmarkNames,
  buildReport,
  describeCheck,
  evaluateCheck,
  evaluateFigure,
  parseArgs,
  parseFigures,
  renderMarkdown,
  tailLines,
  targets,
  type BenchmarkRunInput,
  type Figure,
} from './benchReport.ts';

const machine = {
  cores: 2,
  totalMemoryBytes: 8 * 2 ** 30,
  node: 'v20.20.2',
  platform: 'linux 6.1 x64',
  loadAverageStart: [0.5, 0.4, 0.3],
  loadAverageEnd: [1.25, 0.9, 0.5],
};

const run = (over: Partial<BenchmarkRunInput> & Pick<BenchmarkRunInput, 'name'>) => ({
  startedAt: '2026-01-01T10:00:00.000Z',
  endedAt: '2026-01-01T10:00:30.000Z',
  durationMs: 30_000,
  exitCode: 0,
  loadAverageStart: [0.5, 0.4, 0.3],
  stdout: '',
  stderr: '',
  ...over,
});

describe('parseFigures', () => {
  it('takes the JSON lines with a name out of mixed output', () => {
    const output = [
      '',
      '> mini-tweeter@ bench:eventstore',
      '> tsx shared/bench/eventstore.bench.ts',
      '{"name":"eventstore-append","value":1200,"unit":"appends/s","baseline":1500,"ratio":0.8}',
      'some text { with braces }',
      '  {"name":"eventstore-catchup","value":90000,"unit":"events/s"}\r',
      '{"value":3}',
      '{"name":""}',
      '["name"]',
      '{"name":"broken",',
      '{not json}',
    ].join('\n');
    expect(parseFigures(output)).toEqual([
      { name: 'eventstore-append', value: 1200, unit: 'appends/s', baseline: 1500, ratio: 0.8 },
      { name: 'eventstore-catchup', value: 90000, unit: 'events/s' },
    ]);
  });

  it('finds nothing in text alone', () => {
    expect(parseFigures('benchmark failed: connection refused\n')).toEqual([]);
  });
});

describe('evaluateCheck', () => {
  it('≥ ratio: met at the limit, missed below it', () => {
    const check = { compare: 'ratio', op: '>=', limit: 0.6 } as const;
    const at = { name: 'x', value: 60, baseline: 100, ratio: 0.6 };
    expect(evaluateCheck(at, check)).toMatchObject({ measured: 0.6, result: 'met' });
    expect(evaluateCheck({ ...at, ratio: 0.59 }, check)).toMatchObject({ result: 'missed' });
  });

  it("reads the line's own ratio rather than recomputing it", () => {
    // The line's ratio is its definition (here rounded to 2 digits).
    const figure = { name: 'x', value: 59.6, baseline: 100, ratio: 0.6 };
    expect(evaluateCheck(figure, { compare: 'ratio', op: '>=', limit: 0.6 }).result).toBe('met');
  });

  it('≤ ratio: lower is better', () => {
    const check = { compare: 'ratio', op: '<=', limit: 1.5 } as const;
    expect(evaluateCheck({ name: 'x', ratio: 1.5 }, check).result).toBe('met');
    expect(evaluateCheck({ name: 'x', ratio: 1.51 }, check).result).toBe('missed');
  });

  it('< ratio: strictly below', () => {
    const check = { compare: 'ratio', op: '<', limit: 1 } as const;
    expect(evaluateCheck({ name: 'x', ratio: 0.99 }, check).result).toBe('met');
    expect(evaluateCheck({ name: 'x', ratio: 1 }, check).result).toBe('missed');
  });

  it('≤ value, in the unit of the limit', () => {
    const check = { compare: 'value', op: '<=', limit: 32, unit: 'bytes' } as const;
    expect(evaluateCheck({ name: 'x', value: 32, unit: 'bytes' }, check)).toMatchObject({
      measured: 32,
      result: 'met',
    });
    expect(evaluateCheck({ name: 'x', value: 33, unit: 'bytes' }, check).result).toBe('missed');
    expect(evaluateCheck({ name: 'x', value: 3, unit: 'kB' }, check)).toMatchObject({
      result: 'not measured',
      note: "the line's unit is kB, the limit's bytes",
    });
    expect(evaluateCheck({ name: 'x', unit: 'bytes' }, check).result).toBe('not measured');
  });

  it('divides two fields when the line has no ratio for them', () => {
    const check = {
      compare: 'ratio',
      op: '<=',
      limit: 1.3,
      valueField: 'p99',
      baselineField: 'baselineP99',
      unit: 'ms',
    } as const;
    // `ratio` is the throughput ratio: not the one this check reads.
    const figure = { name: 'x', ratio: 0.2, p99: 12, baselineP99: 10 };
    expect(evaluateCheck(figure, check)).toMatchObject({
      value: 12,
      baseline: 10,
      measured: 1.2,
      unit: 'ms',
      result: 'met',
    });
    expect(evaluateCheck({ ...figure, p99: 14 }, check).result).toBe('missed');
  });

  it('no baseline when neither the ratio nor its baseline is on the line', () => {
    const check = { compare: 'ratio', op: '>=', limit: 0.5 } as const;
    expect(evaluateCheck({ name: 'x', value: 50_000, target: 50_000 }, check).result).toBe(
      'no baseline',
    );
    expect(evaluateCheck({ name: 'x', value: 1, baseline: 0 }, check).result).toBe('no baseline');
    expect(evaluateCheck({ name: 'x', value: 1, ratio: null }, check).result).toBe('no baseline');
    const peer = targets['eventstore-append']!.checks[1]!;
    expect(evaluateCheck({ name: 'x', value: 9, baseline: 10, ratio: 0.9 }, peer).result).toBe(
      'no baseline',
    );
    expect(evaluateCheck({ name: 'x', value: 30, peerBaseline: 10 }, peer)).toMatchObject({
      measured: 3,
      result: 'met',
    });
  });

  it('says each check in words', () => {
    expect(describeCheck({ compare: 'ratio', op: '>=', limit: 0.6 })).toBe('ratio ≥ 0.6');
    expect(
      describeCheck({
        compare: 'ratio',
        op: '>=',
        limit: 0.3,
        baselineField: 'serverBaseline',
        ratioField: 'serverRatio',
      }),
    ).toBe('serverRatio ≥ 0.3');
    expect(
      describeCheck({
        compare: 'ratio',
        op: '<=',
        limit: 1.3,
        valueField: 'p99',
        baselineField: 'baselineP99',
      }),
    ).toBe('p99 ≤ 1.3 × baselineP99');
    expect(describeCheck({ compare: 'value', op: '<=', limit: 50, unit: 'ms' })).toBe(
      'value ≤ 50 ms',
    );
    expect(describeCheck({ compare: 'ratio', op: '<', limit: 1 })).toBe('ratio < 1');
  });
});

describe('evaluateFigure', () => {
  it('met, missed, incomplete and no target', () => {
    const readLine = { name: 'timeline-read', unit: 'req/s', value: 7000, baseline: 10000 };
    expect(
      evaluateFigure('queries', { ...readLine, ratio: 0.7, p99: 12, baselineP99: 10 }).result,
    ).toBe('met');
    expect(
      evaluateFigure('queries', { ...readLine, ratio: 0.7, p99: 20, baselineP99: 10 }).result,
    ).toBe('missed');
    // One check met, the other without its baseline.
    expect(evaluateFigure('queries', { ...readLine, ratio: 0.7 }).result).toBe('incomplete');
    expect(
      evaluateFigure('eventstore', { name: 'eventstore-catchup', value: 1, unit: 'events/s' }),
    ).toMatchObject({ checks: [], result: 'no target' });
    expect(evaluateFigure('eventstore', { name: 'something-new', value: 1 }).result).toBe(
      'no target',
    );
  });

  it('tells apart lines of one name by their Redis, processes, partitions and posting', () => {
    const label = (line: Record<string, unknown>) =>
      evaluateFigure('projector', { name: 'post-to-timeline-breakdown', ...line }).label;
    expect(label({ redis: 'cluster', posting: 'solo' })).toBe(
      'post-to-timeline-breakdown (cluster, solo)',
    );
    expect(label({ redis: 'single', processes: 2, partitions: 8 })).toBe(
      'post-to-timeline-breakdown (single, processes 2, partitions 8)',
    );
    expect(label({})).toBe('post-to-timeline-breakdown');
  });

  it('applies one target to every line of a name', () => {
    const line = { name: 'post-to-timeline', unit: 'ms', value: 80, baseline: 60, ratio: 1.33 };
    for (const processes of [1, 2])
      expect(evaluateFigure('projector', { ...line, processes }).result).toBe('met');
    expect(evaluateFigure('projector', { ...line, value: 120, ratio: 1.2 }).checks).toMatchObject([
      { target: 'ratio ≤ 1.5', result: 'met' },
      { target: 'value ≤ 100 ms', result: 'missed' },
    ]);
  });

  it('the table covers every figure the benchmarks print, each in its benchmark', () => {
    for (const t of Object.values(targets)) expect(benchmarkNames).toContain(t.benchmark);
    expect(Object.keys(targets).sort()).toEqual(
      [
        'eventstore-append',
        'eventstore-catchup',
        'post-tweet',
        'replay-read-model',
        'replay-timelines',
        'post-to-timeline',
        'post-to-timeline-breakdown',
        'timeline-entry-bytes',
        'listpack-insert-position',
        'timeline-read',
        'timeline-deep-page',
        'webhook-deliveries',
        'event-to-webhook',
      ].sort(),
    );
  });
});

describe('buildReport and renderMarkdown', () => {
  const eventstoreOut = [
    '> mini-tweeter@ bench:eventstore',
    JSON.stringify({
      name: 'eventstore-append',
      value: 1800,
      unit: 'appends/s',
      baseline: 2000,
      baselineName: 'raw single-row INSERT, 16 clients',
      ratio: 0.9,
      target: 0.6,
    }),
    JSON.stringify({ name: 'eventstore-catchup', value: 95000.5, unit: 'events/s' }),
  ].join('\n');
  const projectorOut = [
    JSON.stringify({
      name: 'timeline-entry-bytes',
      redis: 'single',
      value: 40,
      unit: 'bytes',
      baseline: 30,
      ratio: 1.33,
      baselineNote: 'the same entries written by one ZADD into a fresh key',
    }),
  ].join('\n');
  const report = buildReport({
    startedAt: '2026-01-01T10:00:00.000Z',
    endedAt: '2026-01-01T10:02:05.000Z',
    durationMs: 125_000,
    machine,
    runs: [
      run({ name: 'eventstore', stdout: eventstoreOut, stderr: 'all fine\n' }),
      run({
        name: 'projector',
        stdout: projectorOut,
        stderr: '# replay-read-model failed\n# replay-timelines (single) failed\n',
      }),
      run({
        name: 'queries',
        exitCode: 1,
        stderr: `${Array.from({ length: 60 }, (_, i) => `line ${i}`).join('\n')}\nError: boom\n`,
      }),
    ],
  });

  it('evaluates every figure and lists the figures with a target that were not printed', () => {
    expect(report.figures.map((f) => [f.benchmark, f.label, f.result])).toEqual([
      ['eventstore', 'eventstore-append', 'incomplete'],
      ['eventstore', 'eventstore-catchup', 'no target'],
      ['projector', 'timeline-entry-bytes (single)', 'missed'],
      ['projector', 'replay-read-model', 'not printed'],
      ['projector', 'replay-timelines', 'not printed'],
      ['projector', 'post-to-timeline', 'not printed'],
      ['queries', 'timeline-read', 'not printed'],
      ['queries', 'timeline-deep-page', 'not printed'],
    ]);
    expect(report.summary).toEqual({
      checks: { met: 1, missed: 1, 'no baseline': 1, 'not measured': 0 },
      figures: 3,
      noTarget: 1,
      notPrinted: 5,
      benchmarksOk: 2,
      benchmarksFailed: 1,
    });
    const [eventstore, projector, queries] = report.benchmarks;
    expect(eventstore).toMatchObject({ ok: true, figures: 2, notPrinted: [] });
    expect(eventstore!.stderrTail).toBeUndefined();
    expect(projector).toMatchObject({ ok: true, notPrinted: expect.any(Array) as unknown });
    expect(projector!.stderrTail).toContain('replay-read-model failed');
    expect(queries).toMatchObject({ ok: false, exitCode: 1, script: 'npm run bench:queries' });
    expect(queries!.stderrTail!.split('\n')).toHaveLength(40);
    expect(queries!.stderrTail).toMatch(/line 59\nError: boom$/);
  });

  it('renders the machine, the benchmarks, one row per check and the failures', () => {
    const md = renderMarkdown(report);
    expect(md).toContain(
      '| 2 | 8.0 GiB | v20.20.2 | linux 6.1 x64 | 0.50 0.40 0.30 | 1.25 0.90 0.50 |',
    );
    expect(md).toContain(
      '| eventstore | `npm run bench:eventstore` | ok | 0 | 30.0 s | 0.50 0.40 0.30 | 2 |',
    );
    expect(md).toContain('| queries | `npm run bench:queries` | failed | 1 | 30.0 s |');
    expect(md).toContain(
      '| eventstore | eventstore-append | 1,800 appends/s | 2,000 appends/s (raw single-row INSERT, 16 clients) | 0.9 | ratio ≥ 0.6 | met |',
    );
    expect(md).toContain(
      "| eventstore | eventstore-append | 1,800 appends/s | — (Emmett's PostgreSQL event store, 16 appenders) | — | peerRatio ≥ 2.5 | no baseline |",
    );
    expect(md).toContain(
      '| eventstore | eventstore-catchup | 95,001 events/s | — | — | no target | no target |',
    );
    expect(md).toContain(
      '| projector | timeline-entry-bytes (single) | 40 bytes | 30 bytes (the same entries written by one ZADD into a fresh key) | 1.33 | value ≤ 32 bytes | missed |',
    );
    expect(md).toContain(
      '| queries | timeline-read | — | — | — | ratio ≥ 0.6; p99 ≤ 1.3 × baselineP99 | not printed |',
    );
    expect(md).toContain(
      'Targets: 1 met, 1 missed, 1 no baseline; 1 figure with no target; 5 not printed. Benchmarks: 2 ok, 1 failed.',
    );
    expect(md).toContain('### queries: exited with 1');
    expect(md).toContain('### projector: did not print replay-read-model, replay-timelines');
    expect(md).toMatch(/```text\n(line \d+\n)+Error: boom\n```/);
    expect(md).not.toContain('### eventstore');
    expect(md.endsWith('```\n')).toBe(true);
  });

  it('warns when the load average was above the core count', () => {
    expect(renderMarkdown(report)).not.toContain('The machine was busy');
    const busy = { ...report, machine: { ...machine, loadAverageEnd: [5.01, 3, 2] } };
    expect(renderMarkdown(busy)).toContain(
      '**The machine was busy**: a 1-minute load average of 5.01 on 2 cores.',
    );
  });

  it('escapes pipes in cells', () => {
    const md = renderMarkdown(
      buildReport({
        startedAt: 'a',
        endedAt: 'b',
        durationMs: 1,
        machine,
        runs: [
          run({
            name: 'webhooks',
            stdout: JSON.stringify({
              name: 'webhook-deliveries',
              value: 1,
              unit: 'a|b',
            } satisfies Figure),
          }),
        ],
      }),
    );
    expect(md).toContain('1 a\\|b');
  });
});

describe('parseArgs and tailLines', () => {
  it('runs every benchmark by default, a subset with --only, in the standard order', () => {
    expect(parseArgs([]).only).toEqual([...benchmarkNames]);
    expect(parseArgs(['--only', 'projector,eventstore']).only).toEqual(['eventstore', 'projector']);
    expect(parseArgs(['--only=queries']).only).toEqual(['queries']);
    expect(() => parseArgs(['--only', 'eventstore,nope'])).toThrow(/unknown benchmark nope/);
    expect(() => parseArgs(['--only'])).toThrow(/needs a list/);
    expect(() => parseArgs(['--fast'])).toThrow(/unknown argument/);
  });

  it('keeps the last lines', () => {
    expect(tailLines('a\nb\nc\n\n', 2)).toBe('b\nc');
    expect(tailLines('a', 5)).toBe('a');
    expect(tailLines('', 5)).toBe('');
  });
});
