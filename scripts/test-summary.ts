// Prints one closing line over every test tier of the run: "N passed, N failed, N skipped".
import { existsSync, readFileSync } from 'node:fs';

interface VitestJsonReport {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests?: number;
}

const totals = { passed: 0, failed: 0, skipped: 0 };
// replica-*: the query service's suites again, reading from a hot standby.
for (const tier of [
  'unit',
  'int',
  'e2e',
  'replica-int',
  'replica-e2e',
  'cluster-int',
  'cluster-e2e',
  'cluster-partitions',
  'fault',
]) {
  const file = `.stack/test-results/${tier}.json`;
  if (!existsSync(file)) continue;
  const report = JSON.parse(readFileSync(file, 'utf8')) as VitestJsonReport;
  totals.passed += report.numPassedTests;
  totals.failed += report.numFailedTests;
  totals.skipped += report.numPendingTests + (report.numTodoTests ?? 0);
}
console.log(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(totals.failed > 0 ? 1 : 0);
