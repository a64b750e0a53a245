import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dataFreshness, tradingDaysBetween } from '../src/admin/data-freshness.js';

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});
function store(reports: Record<string, unknown>[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'resemble-fresh-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'runs'));
  reports.forEach((r, i) =>
    writeFileSync(
      join(dir, 'runs', `${i}-${String(r.source)}-x.json`),
      JSON.stringify({
        id: `r${i}`,
        startedAt: r.finishedAt,
        durationMs: 1,
        ok: [],
        failed: [],
        skipped: [],
        rowsAdded: 0,
        rowsRejected: [],
        ...r,
      }),
    ),
  );
  return dir;
}

/** Slow twin: walk every day, count the calendar's days and weekdays past its end. */
function twin(from: string, to: string, cal: string[]): number {
  let n = 0;
  const end = cal.at(-1) ?? from;
  for (let d = new Date(`${from}T00:00:00Z`); ;) {
    d.setUTCDate(d.getUTCDate() + 1);
    const iso = d.toISOString().slice(0, 10);
    if (iso > to) return n;
    if (cal.includes(iso)) n++;
    else if (iso > end && d.getUTCDay() % 6 !== 0) n++;
  }
}

describe('data freshness for the operator view', () => {
  it('counts trading days by the calendar where it reaches and weekdays beyond (against a slow twin)', () => {
    const cal = ['2024-12-30', '2025-01-06', '2025-01-07', '2025-01-08'];
    for (const [from, to] of [
      ['2024-12-27', '2025-01-07'],
      ['2024-12-27', '2025-01-20'],
      ['2025-01-08', '2025-01-08'],
      ['2025-01-10', '2025-02-03'],
    ] as const)
      expect(tradingDaysBetween(from, to, cal)).toBe(twin(from, to, cal));
    // New Year: 2024-12-31 .. 2025-01-03 are holidays in the calendar.
    expect(tradingDaysBetween('2024-12-27', '2025-01-06', cal)).toBe(2);
  });

  it('flags a source whose data is behind the calendar, and one whose last run failed', () => {
    const dir = store([
      {
        source: 'jquants',
        finishedAt: '2025-01-06T10:00:00Z',
        success: true,
        market: 'JP',
        dataThrough: '2024-12-30',
        upcomingTradingDays: ['2025-01-06', '2025-01-07', '2025-01-08', '2025-01-09'],
      },
      {
        source: 'polygon',
        finishedAt: '2025-01-08T23:00:00Z',
        success: true,
        market: 'US',
        dataThrough: '2025-01-08',
        upcomingTradingDays: ['2025-01-10'],
      },
      { source: 'polygon', finishedAt: '2025-01-09T23:00:00Z', success: false, market: 'US' },
    ]);
    // 2025-01-10 01:00 UTC: 10:00 in Tokyo on the 10th; 20:00 on the 9th in New York.
    const [jq, poly] = dataFreshness(dir, new Date('2025-01-10T01:00:00Z'));
    expect(jq).toMatchObject({
      source: 'jquants',
      dataThrough: '2024-12-30',
      tradingDaysBehind: 4,
      stale: true,
    });
    expect(jq!.reasons).toEqual(['no successful run for more than 36 hours', '4 trading days behind']);
    // The US calendar had no trading on the 9th: its data is current, but the last run failed.
    expect(poly).toMatchObject({
      lastRunSucceeded: false,
      lastSuccessAt: '2025-01-08T23:00:00Z',
      tradingDaysBehind: 0,
      stale: true,
      reasons: ['the last run failed'],
    });
  });

  it('a current source is not stale', () => {
    const dir = store([
      {
        source: 'jquants',
        finishedAt: '2025-01-09T10:00:00Z',
        success: true,
        market: 'JP',
        dataThrough: '2025-01-09',
        upcomingTradingDays: ['2025-01-10'],
      },
    ]);
    expect(dataFreshness(dir, new Date('2025-01-10T03:00:00Z'))[0]).toMatchObject({
      tradingDaysBehind: 0,
      stale: false,
      reasons: [],
    });
  });
});
