/**
 * `npm run bench` (docs/benchmarks.md): runs every benchmark in turn, one at a time
 * (`npm run bench:<name>`), streams its output, collects its figure lines and writes
 * bench-report.md and bench-report.json at the repo root, each figure against its target
 * (scripts/benchReport.ts). A benchmark that fails is reported as failed and the others run on.
 *
 * Options: `--only eventstore,projector` runs a subset. Exit code 1 when a benchmark failed or the
 * run was interrupted (Ctrl-C stops after the running benchmark; a second Ctrl-C at once); missed
 * targets do not fail the run.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildReport,
  parseArgs,
  renderFiguresTable,
  renderMarkdown,
  renderSummary,
  type BenchmarkName,
  type BenchmarkRunInput,
} from './benchReport.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** How much of a benchmark's stderr is kept (its end). */
const stderrKeep = 256 * 1024;

let only: BenchmarkName[];
try {
  ({ only } = parseArgs(process.argv.slice(2)));
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(2);
}

let interrupted = false;
let running: ReturnType<typeof spawn> | undefined;
process.on('SIGINT', () => {
  if (interrupted) process.exit(130);
  interrupted = true;
  console.error('\nbench: interrupted, stopping after this benchmark (Ctrl-C again to quit now)');
  // From a terminal the benchmark got the same Ctrl-C; sent to this process alone, pass it on.
  running?.kill('SIGINT');
});

function runOne(name: BenchmarkName): Promise<BenchmarkRunInput> {
  const startedAt = new Date();
  const loadAverageStart = os.loadavg();
  const started = performance.now();
  let stdout = '';
  let stderr = '';
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', `bench:${name}`], {
      cwd: root,
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running = child;
    let error: string | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      process.stdout.write(chunk);
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk);
      stderr += chunk.toString('utf8');
      if (stderr.length > 2 * stderrKeep) stderr = stderr.slice(-stderrKeep);
    });
    child.on('error', (e) => {
      error = e.message;
    });
    child.on('close', (code, signal) => {
      running = undefined;
      const endedAt = new Date();
      resolve({
        name,
        startedAt: startedAt.toISOString(),
        endedAt: endedAt.toISOString(),
        durationMs: performance.now() - started,
        // A process that could not start has no exit code of its own.
        exitCode: error ? null : code,
        signal,
        ...(error ? { error } : {}),
        loadAverageStart,
        stdout,
        stderr: stderr.slice(-stderrKeep),
      });
    });
  });
}

const startedAt = new Date();
const started = performance.now();
const loadAverageStart = os.loadavg();
console.error(
  `bench: ${only.join(', ')} on ${os.cpus().length} cores, load ${loadAverageStart
    .map((l) => l.toFixed(2))
    .join(' ')}; run it with nothing else busy`,
);
const runs: BenchmarkRunInput[] = [];
for (const [i, name] of only.entries()) {
  if (interrupted) break;
  console.error(`\nbench: ==== npm run bench:${name} (${i + 1} of ${only.length}) ====`);
  const run = await runOne(name);
  runs.push(run);
  console.error(
    `bench: ==== bench:${name}: ${run.error ? `could not run (${run.error})` : `exit ${run.exitCode ?? run.signal}`}, ${(run.durationMs / 1000).toFixed(1)} s ====`,
  );
}
const endedAt = new Date();
const cpus = os.cpus();
const report = buildReport({
  startedAt: startedAt.toISOString(),
  endedAt: endedAt.toISOString(),
  durationMs: performance.now() - started,
  interrupted: interrupted && runs.length < only.length,
  machine: {
    cores: cpus.length,
    ...(cpus[0]?.model ? { cpuModel: cpus[0].model.trim() } : {}),
    totalMemoryBytes: os.totalmem(),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    loadAverageStart,
    loadAverageEnd: os.loadavg(),
  },
  runs,
});
const markdownPath = path.join(root, 'bench-report.md');
const jsonPath = path.join(root, 'bench-report.json');
writeFileSync(markdownPath, renderMarkdown(report));
writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);

console.log(`\n${renderFiguresTable(report)}\n\n${renderSummary(report)}`);
console.log(
  `\nWrote ${path.relative(process.cwd(), markdownPath) || markdownPath} and ${path.relative(process.cwd(), jsonPath) || jsonPath}.`,
);
const skipped = only.filter((n) => !runs.some((r) => r.name === n));
if (skipped.length > 0) console.error(`bench: not run: ${skipped.join(', ')}`);
process.exit(report.summary.benchmarksFailed > 0 || report.interrupted ? 1 : 0);
