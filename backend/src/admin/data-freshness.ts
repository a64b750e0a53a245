/**
 * Data freshness for the operator view: per source, its last run and last successful run (from the run
 * reports in DATA_DIR/runs) and how many trading days its market's data is behind. Market-day sources
 * record the exchange's upcoming trading days in their reports, so the count follows the real calendar
 * even when the job has stopped running; for other sources weekdays stand in for trading days.
 */
import Database from 'better-sqlite3';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CATALOG_FILE, RUNS_DIR, runReportSchema, type RunReport } from '@resemble/contracts';

export interface SourceFreshness {
  source: string;
  market: string | null;
  lastRunAt: string;
  lastRunSucceeded: boolean;
  lastSuccessAt: string | null;
  /** Newest stored trading day of the source's market (or of the whole store for per-stock sources). */
  dataThrough: string | null;
  /** Trading days after dataThrough up to yesterday at the exchange (today's prices may not be out yet). */
  tradingDaysBehind: number | null;
  stale: boolean;
  /** Why it is flagged stale, for the operator. */
  reasons: string[];
}

/** UTC offset of a market's exchange in hours, for "today there". */
const MARKET_OFFSET: Record<string, number> = { JP: 9, US: -5 };

function addDays(iso: string, n: number): string {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/** Trading days d with from < d <= to: the calendar where it reaches, weekdays beyond it. */
export function tradingDaysBetween(from: string, to: string, calendar: readonly string[] = []): number {
  let n = calendar.filter((d) => d > from && d <= to).length;
  const calEnd = calendar.length ? calendar[calendar.length - 1]! : from;
  for (let d = addDays(calEnd > from ? calEnd : from, 1); d <= to; d = addDays(d, 1)) {
    const wd = new Date(`${d}T00:00:00Z`).getUTCDay();
    if (wd !== 0 && wd !== 6) n++;
  }
  return n;
}

function readReports(dataDir: string): RunReport[] {
  const dir = join(dataDir, RUNS_DIR);
  if (!existsSync(dir)) return [];
  const out: RunReport[] = [];
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.json'))) {
    try {
      const r = runReportSchema.safeParse(JSON.parse(readFileSync(join(dir, f), 'utf8')));
      if (r.success) out.push(r.data);
    } catch {
      // A half-written report of a crashed writer: ignored.
    }
  }
  return out;
}

function newestDate(dataDir: string, market: string | null): string | null {
  const file = join(dataDir, CATALOG_FILE);
  if (!existsSync(file)) return null;
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const row = (
      market
        ? db.prepare('SELECT MAX(last_date) AS d FROM entities WHERE market = ?').get(market)
        : db.prepare('SELECT MAX(last_date) AS d FROM entities').get()
    ) as { d: string | null };
    return row.d;
  } finally {
    db.close();
  }
}

export function dataFreshness(
  dataDir: string,
  now: Date,
  opts: { maxDaysBehind?: number; maxHoursSinceSuccess?: number } = {},
): SourceFreshness[] {
  const maxBehind = opts.maxDaysBehind ?? 1;
  const maxHours = opts.maxHoursSinceSuccess ?? 36;
  const bySource = new Map<string, RunReport[]>();
  for (const r of readReports(dataDir)) bySource.set(r.source, [...(bySource.get(r.source) ?? []), r]);
  const out: SourceFreshness[] = [];
  for (const [source, runs] of [...bySource].sort(([a], [b]) => (a < b ? -1 : 1))) {
    runs.sort((a, b) => (a.finishedAt < b.finishedAt ? 1 : -1));
    const last = runs[0]!;
    const success = runs.find((r) => r.success) ?? null;
    const withMarket = runs.find((r) => r.market) ?? null;
    const market = withMarket?.market ?? null;
    // A listing source keeps names, not prices: its freshness is its last success alone.
    const pricesSource = source !== 'jpx-listings';
    const dataThrough = pricesSource ? (success?.dataThrough ?? newestDate(dataDir, market)) : null;
    const today = new Date(now.getTime() + (MARKET_OFFSET[market ?? ''] ?? 0) * 3600_000)
      .toISOString()
      .slice(0, 10);
    const behind = dataThrough
      ? tradingDaysBetween(dataThrough, addDays(today, -1), success?.upcomingTradingDays ?? [])
      : null;
    const reasons: string[] = [];
    if (!last.success) reasons.push('the last run failed');
    if (!success) reasons.push('no successful run');
    else if (pricesSource && now.getTime() - Date.parse(success.finishedAt) > maxHours * 3600_000)
      reasons.push(`no successful run for more than ${maxHours} hours`);
    if (behind !== null && behind > maxBehind) reasons.push(`${behind} trading days behind`);
    out.push({
      source,
      market,
      lastRunAt: last.finishedAt,
      lastRunSucceeded: last.success,
      lastSuccessAt: success?.finishedAt ?? null,
      dataThrough,
      tradingDaysBehind: behind,
      stale: reasons.length > 0,
      reasons,
    });
  }
  return out;
}
