import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { RunReport } from '@resemble/contracts';
import { afterAll, describe, expect, it } from 'vitest';
import { assessRunReport, latestRunReport } from '../src/run-report.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function report(over: Partial<RunReport> = {}): RunReport {
  return {
    id: 'r1',
    source: 'csv-http',
    startedAt: '2026-11-20T07:30:00.000Z',
    finishedAt: '2026-11-20T07:40:00.000Z',
    durationMs: 600_000,
    ok: Array.from({ length: 95 }, (_, i) => `C${i}`),
    failed: Array.from({ length: 5 }, (_, i) => ({ code: `F${i}`, reason: 'HTTP 503' })),
    skipped: [],
    rowsAdded: 95,
    rowsRejected: [],
    success: false,
    ...over,
  };
}

function store(reports: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'run-report-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'runs'));
  for (const [name, r] of Object.entries(reports)) writeFileSync(join(dir, 'runs', name), JSON.stringify(r));
  return dir;
}

const cli = resolve(import.meta.dirname, '../src/run-report.cli.ts');
const tsx = resolve(import.meta.dirname, '../../node_modules/.bin/tsx');

describe('run report gate', () => {
  it('passes a day with failures at the threshold and fails one above it', () => {
    expect(assessRunReport('r1.json', report(), 0.05).ok).toBe(true);
    const bad = assessRunReport('r1.json', report(), 0.04);
    expect(bad.ok).toBe(false);
    expect(bad.reasons).toEqual(['5 of 100 stocks failed (5.0 % > 4.0 %)']);
  });

  it('fails an empty run and a stale report', () => {
    expect(assessRunReport('r.json', report({ ok: [], failed: [] }), 0.05).reasons).toEqual([
      'no stock was attempted',
      '0 of 0 stocks failed (100.0 % > 5.0 %)',
    ]);
    const stale = assessRunReport('r.json', report(), 0.05, 6, new Date('2026-11-21T07:40:00Z'));
    expect(stale.reasons).toEqual([expect.stringMatching(/finished 24\.0 h ago \(limit 6 h\)/)]);
  });

  it('picks the newest report by startedAt and refuses a malformed one', () => {
    const dir = store({
      'a.json': report({ id: 'old', startedAt: '2026-11-19T07:30:00.000Z' }),
      'b.json': report({ id: 'new' }),
    });
    expect(latestRunReport(dir).report.id).toBe('new');
    const broken = store({ 'a.json': { id: 'x' } });
    expect(() => latestRunReport(broken)).toThrow(/runs\/a\.json: not a valid run report/);
    expect(() => latestRunReport(join(broken, 'nope'))).toThrow(/no run reports/);
  });

  it('the CLI exits 0 for a publishable run, 1 otherwise, 2 on bad usage', () => {
    const good = store({ 'a.json': report() });
    const ok = spawnSync(tsx, [cli, '--data', good], { encoding: 'utf8' });
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/run report OK: a\.json: 95 ok, 5 failed/);
    const strict = spawnSync(tsx, [cli, '--data', good, '--max-failed-ratio', '0.01'], { encoding: 'utf8' });
    expect(strict.status).toBe(1);
    expect(strict.stderr).toMatch(/NOT publishable[\s\S]*failed F0: HTTP 503/);
    expect(spawnSync(tsx, [cli, '--max-failed-ratio', '2'], { encoding: 'utf8' }).status).toBe(2);
  });
});
