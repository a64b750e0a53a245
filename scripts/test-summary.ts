/**
 * Runs every workspace's tests in one vitest run and ends with the plain line `N passed, N failed`,
 * which CI reads (vitest's own summary is not one CI understands).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const out = resolve(root, 'artifacts', 'vitest-results.json');
mkdirSync(resolve(root, 'artifacts'), { recursive: true });

const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}`, ...process.argv.slice(2)];
const run = spawnSync('npx', args, { cwd: root, stdio: 'inherit', env: { ...process.env, CI: process.env.CI ?? 'true' } });

let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(out)) {
  const report = JSON.parse(readFileSync(out, 'utf8')) as {
    numPassedTests: number;
    numFailedTests: number;
    numPendingTests: number;
    numTodoTests: number;
    testResults: { status: string; name: string; message?: string }[];
  };
  passed = report.numPassedTests;
  failed = report.numFailedTests;
  skipped = report.numPendingTests + report.numTodoTests;
  // A file that fails to load has no failed test but must still fail the run.
  const brokenFiles = report.testResults.filter((f) => f.status === 'failed' && f.message);
  for (const f of brokenFiles) console.error(`file failed: ${f.name}: ${f.message?.split('\n')[0]}`);
  if (brokenFiles.length > 0 && failed === 0) failed = brokenFiles.length;
}
const status = run.status ?? 1;
if (status !== 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || status !== 0 ? 1 : 0);
