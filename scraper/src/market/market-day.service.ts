/**
 * Daily increments from a market-day source (a provider that answers one trading day of the whole
 * market per call, e.g. J-Quants or the US bulk end-of-day source): the company master first (when the
 * source has one), then every trading day after the newest stored one, by the exchange's calendar; the
 * bars are grouped per stock and published in batches (each publish atomic), raw prices and splits
 * separately so the store rebuilds the adjusted history. Ends with a run report in DATA_DIR/runs/.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { RUNS_DIR, runReportSchema, type RunReport } from '@resemble/contracts';
import type pino from 'pino';
import {
  openStore,
  StoreError,
  type Adjustment,
  type CompanyPatch,
  type RowInput,
  type Store,
} from '../store/index.js';
import { writeFileAtomic } from '../scrape/atomic-file.js';

export interface DayBar {
  code: string;
  date: string;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  /** Split factor effective on this date (prices before it × factor), when the source reports one. */
  splitFactor?: number;
}

export interface DayBars {
  bars: DayBar[];
  /** Issues listed that day without a trade (null bars): not stored, not zeros. */
  noTrade: string[];
  /** The source knows the market was closed that day (a holiday its calendar did not list). */
  closed?: boolean;
}

export interface MarketDaySource {
  name: string;
  market: string;
  currency: string;
  /** The exchange's trading days in [from, to] (ISO), ascending. */
  tradingDays(from: string, to: string): Promise<string[]>;
  barsOnDate(date: string): Promise<DayBars>;
  /** One issue's bars in [from, to] (backfill). */
  barsOfCode(code: string, from: string, to: string): Promise<DayBars>;
  /** The complete listing of the market, when the source has one. */
  master?(): Promise<{ patches: CompanyPatch[]; asOf: string | null }>;
  /** Today's date where the exchange is (a day is only fetched once it has begun there). */
  today(now: Date): string;
}

export interface MarketDayOptions {
  dataDir: string;
  source: MarketDaySource;
  log: pino.Logger;
  /** Fetch from this date (default: the day after the newest stored one of this market). */
  since?: string;
  /** Last date to fetch (default: today at the exchange). */
  until?: string;
  /** Backfill these codes one by one (code with from/to) instead of the whole market by date. */
  codes?: string[];
  /** Calendar days fetched when the store has nothing of this market yet. */
  initialDays?: number;
  /** Stocks per publish. */
  batchSize?: number;
  /**
   * Trading days fetched before they are written (default 60, about a quarter): a long first fetch keeps
   * its progress when it fails or is stopped half-way (the next run goes on from the newest stored day),
   * and holds at most this many days of the market in memory. Each write rebuilds every stock's file once,
   * so fewer, larger chunks cost less: 1,000 issues × 41 days took 13 s written in 2 chunks, 31 s in 5,
   * 291 s day by day (2026-12-07, shared machine); at the Light plan's rate 60 days take ~5 min to fetch.
   */
  flushEveryDays?: number;
  now?: () => Date;
}

export interface MarketDayResult {
  report: RunReport;
  reportPath: string;
  days: string[];
  master: { added: number; updated: number; delisted: number } | null;
}

export function addDays(iso: string, n: number): string {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/** Today's date at a fixed UTC offset in hours (Tokyo +9; New York -5 is close enough for a date). */
export function dateAtOffset(now: Date, hours: number): string {
  return new Date(now.getTime() + hours * 3600_000).toISOString().slice(0, 10);
}

function newestStored(store: Store, market: string): string | null {
  let last: string | null = null;
  for (const e of store.listCatalog())
    if (e.market === market && (!last || e.last_date > last)) last = e.last_date;
  return last;
}

export async function runMarketDays(opts: MarketDayOptions): Promise<MarketDayResult> {
  const { source, log } = opts;
  const now = opts.now ?? (() => new Date());
  const startedAt = now();
  const id = `${startedAt
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}-${source.name}-${randomBytes(3).toString('hex')}`;
  const runLog = log.child({ run: id, source: source.name });
  const store = openStore(opts.dataDir);
  const ok = new Set<string>();
  const failed: { code: string; reason: string }[] = [];
  const skipped: { code: string; reason: string }[] = [];
  const rowsRejected: RunReport['rowsRejected'] = [];
  let rowsAdded = 0;
  let days: string[] = [];
  let master: MarketDayResult['master'] = null;
  let upcoming: string[] = [];
  try {
    if (source.master && !opts.codes) {
      const m = await source.master();
      const res = store.applyCompanies(m.patches, {
        source: source.name,
        asOf: m.asOf,
        complete: { market: source.market },
        now: now(),
      });
      master = { added: res.added.length, updated: res.updated.length, delisted: res.delisted.length };
      runLog.info(master, 'company master updated');
    }
    const today = source.today(now());
    const until = opts.until && opts.until < today ? opts.until : today;
    const last = newestStored(store, source.market);
    const since = opts.since ?? (last ? addDays(last, 1) : addDays(until, -(opts.initialDays ?? 365)));
    // The calendar a year ahead as well, for the operator view's "trading days behind".
    const calendar =
      since <= until
        ? await source.tradingDays(since, addDays(until, 366))
        : await source.tradingDays(addDays(until, 1), addDays(until, 366));
    days = calendar.filter((d) => d >= since && d <= until);
    upcoming = calendar.filter((d) => d > until);

    // Days are fetched, then written in chunks of flushEveryDays: each stock's file is rebuilt once per
    // chunk, not once per day, and a failure keeps the complete days fetched before it.
    let perCode = new Map<string, { rows: RowInput[]; splits: Adjustment[] }>();
    const noTrade = new Map<string, string[]>();
    const take = (b: DayBars) => {
      for (const bar of b.bars) {
        let e = perCode.get(bar.code);
        if (!e) perCode.set(bar.code, (e = { rows: [], splits: [] }));
        e.rows.push({
          date: bar.date,
          open: bar.open,
          high: bar.high,
          low: bar.low,
          close: bar.close,
          volume: bar.volume,
        });
        if (bar.splitFactor !== undefined && bar.splitFactor !== 1)
          e.splits.push({ exDate: bar.date, kind: 'split', factor: bar.splitFactor });
      }
    };
    const flush = async () => {
      // Taken before writing, so a write that fails is not tried a second time by the failure path.
      const chunk = perCode;
      perCode = new Map();
      const codes = [...chunk.keys()].sort();
      const batchSize = opts.batchSize ?? 200;
      for (let i = 0; i < codes.length; i += batchSize) {
        const batch = store.batch();
        try {
          for (const code of codes.slice(i, i + batchSize)) {
            const e = chunk.get(code)!;
            try {
              const res = batch.add({ code, market: source.market, currency: source.currency }, e.rows, {
                mode: 'merge',
                adjustments: e.splits.length ? e.splits : undefined,
                now: now(),
              });
              rowsAdded += res.rowsAdded;
              for (const r of res.rejected)
                rowsRejected.push({ code, date: r.date, reason: `${r.reason}: ${r.detail}` });
              ok.add(code);
            } catch (err) {
              if (!(err instanceof StoreError)) throw err;
              failed.push({ code, reason: err.message });
            }
          }
          await batch.commitAsync();
        } finally {
          batch.abort();
        }
      }
    };
    if (opts.codes) {
      for (const code of opts.codes) {
        try {
          const b = await source.barsOfCode(code, since, until);
          take(b);
          if (b.bars.length === 0) skipped.push({ code, reason: `no bars from ${since} to ${until}` });
        } catch (err) {
          failed.push({ code, reason: (err as Error).message });
        }
      }
    } else {
      const every = Math.max(1, opts.flushEveryDays ?? 60);
      let pending = 0;
      let current = '';
      try {
        for (const day of days) {
          current = day;
          const b = await source.barsOnDate(day);
          if (b.closed) continue;
          if (b.bars.length === 0 && b.noTrade.length === 0) {
            // Not published yet (the day's data comes in the evening): stop here, the next run goes on.
            runLog.info({ day }, 'no data for this trading day yet');
            days = days.filter((d) => d < day);
            break;
          }
          take(b);
          for (const c of b.noTrade) noTrade.set(c, [...(noTrade.get(c) ?? []), day]);
          runLog.debug({ day, bars: b.bars.length, noTrade: b.noTrade.length }, 'day fetched');
          if (++pending >= every) {
            await flush();
            pending = 0;
          }
        }
      } catch (err) {
        // The complete days before the failing one are stored; the run still fails (reported below).
        days = days.filter((d) => d < current);
        await flush();
        throw err;
      }
    }
    for (const [code, ds] of noTrade)
      if (!perCode.has(code) && !ok.has(code)) skipped.push({ code, reason: `no trade on ${ds.join(', ')}` });
    await flush();
    runLog.info(
      { days: days.length, stocks: ok.size, rowsAdded, failed: failed.length },
      'market days stored',
    );
  } catch (err) {
    failed.push({ code: '*', reason: (err as Error).message });
    runLog.error({ reason: (err as Error).message }, 'run failed');
  }
  const dataThrough = newestStored(store, source.market);
  store.close();
  const finishedAt = now();
  const report = runReportSchema.parse({
    id,
    source: source.name,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationMs: finishedAt.getTime() - startedAt.getTime(),
    ok: [...ok].sort(),
    failed,
    skipped,
    rowsAdded,
    rowsRejected: rowsRejected.slice(0, 1000),
    success: failed.length === 0,
    market: source.market,
    dataThrough,
    upcomingTradingDays: upcoming.slice(0, 400),
  });
  const reportPath = join(opts.dataDir, RUNS_DIR, `${id}.json`);
  writeFileAtomic(reportPath, `${JSON.stringify(report, null, 2)}\n`);
  return { report, reportPath, days, master };
}
