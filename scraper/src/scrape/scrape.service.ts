import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { RUNS_DIR, runReportSchema, type RunReport } from '@resemble/contracts';
import type pino from 'pino';
import type { Browser } from 'puppeteer';
import { createProgress } from '../progress.js';
import { assertEntityCode, openStore, StoreError, validateRows, type Store } from '../store/index.js';
import { CsvHttpAdapter } from './adapters/csv-http.adapter.js';
import { HtmlTableAdapter } from './adapters/html-table.adapter.js';
import type { SourceAdapter } from './adapters/source-adapter.js';
import { writeFileAtomic } from './atomic-file.js';
import { clearCheckpoint, loadCheckpoint, saveCheckpoint, type Checkpoint } from './checkpoint.js';
import { CriticalError, NonRetryableError, RobotsDisallowedError } from './errors.js';
import { PoliteClient } from './polite-client.js';
import { planUpdate } from './reconcile.js';
import type { SourceConfig } from './source-config.js';

export interface ScrapeOptions {
  dataDir: string;
  source: SourceConfig;
  userAgent: string;
  /** Stocks to scrape; default: every code in the catalog. */
  codes?: string[];
  /** Fetch from this date instead of (last stored date - overlap). */
  since?: string;
  log: pino.Logger;
  /** Reuse this browser for html-table sources (it is left open). */
  browser?: Browser;
  /** Stops taking new stocks; the checkpoint stays so the next run resumes. */
  signal?: AbortSignal;
  progress?: { tty?: boolean };
  now?: () => Date;
}

export interface ScrapeResult {
  report: RunReport;
  reportPath: string;
  /** Documents (CSV files or HTML pages) fetched. */
  pages: number;
  /** Set when the run stopped early (critical error or abort). */
  stoppedBy?: string;
}

const BATCH_MAX_STOCKS = 32;
const BATCH_MAX_MS = 500;

function minusDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - days);
  return d.toISOString().slice(0, 10);
}

function newRunId(source: string, now: Date): string {
  return `${now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}-${source}-${randomBytes(3).toString('hex')}`;
}

function createAdapter(source: SourceConfig, client: PoliteClient, browser?: Browser): SourceAdapter {
  return source.kind === 'csv-http'
    ? new CsvHttpAdapter(source, client)
    : new HtmlTableAdapter(source, client, browser);
}

/** Store failures that are about one entity's input; anything else means the store itself is broken. */
function isEntityStoreError(err: unknown): boolean {
  return err instanceof StoreError && err.code.startsWith('invalid_');
}

/**
 * One scrape run: every stock is fetched from its last stored date (minus overlap), validated,
 * reconciled with the stored raw history, and published atomically (in small batches), so a run killed
 * at any moment loses at most the stocks not yet committed. Ends with a report in DATA_DIR/runs/<id>.json.
 */
export async function runScrape(opts: ScrapeOptions): Promise<ScrapeResult> {
  const { source, log, dataDir } = opts;
  const now = opts.now ?? (() => new Date());
  const started = Date.now();
  let store: Store;
  try {
    store = openStore(dataDir);
  } catch (err) {
    throw new CriticalError(`cannot open the store in ${dataDir}: ${(err as Error).message}`);
  }
  const codes = [...new Set(opts.codes ?? store.listCatalog().map((e) => e.code))].sort();
  try {
    codes.forEach(assertEntityCode);
  } catch (err) {
    store.close();
    throw err;
  }
  if (codes.length === 0) {
    store.close();
    throw new Error(
      `nothing to scrape: the catalog in ${dataDir} is empty; import data first or pass --codes`,
    );
  }
  const since = opts.since ?? null;
  const resumed = loadCheckpoint(dataDir, source.name, codes, since);
  const cp: Checkpoint = resumed ?? {
    id: newRunId(source.name, now()),
    source: source.name,
    startedAt: now().toISOString(),
    codes,
    since,
    ok: [],
    failed: [],
    skipped: [],
    rowsAdded: 0,
    rowsRejected: [],
  };
  const runLog = log.child({ run: cp.id, source: source.name });
  const done = new Set([...cp.ok, ...cp.failed.map((f) => f.code), ...cp.skipped.map((s) => s.code)]);
  const queue = codes.filter((c) => !done.has(c));
  runLog.info(
    { stocks: codes.length, todo: queue.length, resumed: Boolean(resumed) },
    resumed ? 'resuming run' : 'run started',
  );

  const client = new PoliteClient({
    userAgent: opts.userAgent,
    limits: source.limits,
    respectRobots: source.respectRobots,
    log: runLog,
  });
  const adapter = createAdapter(source, client, opts.browser);
  const progress = createProgress({
    label: `scrape ${source.name}`,
    total: codes.length,
    unit: 'stocks',
    logger: runLog,
    tty: opts.progress?.tty,
  });
  let pages = 0;
  let stoppedBy: string | undefined;
  const stop = (reason: string) => {
    if (!stoppedBy) runLog.error({ reason }, 'critical error: stopping the run');
    stoppedBy ??= reason;
  };

  // Stocks are published in small batches: one catalog transaction per batch instead of per stock
  // (that fsync-heavy commit dominates otherwise). A stock counts as done only once its batch is
  // committed, so a kill between staging and commit just means it is fetched again on resume.
  const batch = store.batch();
  let pending: { code: string; rowsAdded: number; rejected: Checkpoint['rowsRejected'] }[] = [];
  let lastCommit = Date.now();
  const flush = () => {
    const done = pending;
    pending = [];
    lastCommit = Date.now();
    try {
      batch.commit();
    } catch (err) {
      const reason = `cannot write to the store: ${(err as Error).message}`;
      for (const p of done) cp.failed.push({ code: p.code, reason });
      stop(reason);
      return;
    }
    for (const p of done) {
      cp.ok.push(p.code);
      cp.rowsAdded += p.rowsAdded;
      cp.rowsRejected.push(...p.rejected);
    }
    try {
      saveCheckpoint(dataDir, cp);
    } catch (err) {
      stop(`cannot write the run checkpoint: ${(err as Error).message}`);
    }
  };

  async function scrapeOne(code: string): Promise<void> {
    const entry = store.getCatalogEntry(code);
    const from = since ?? (entry ? minusDays(entry.last_date, source.overlapDays) : source.startDate);
    const fetched = await adapter.fetchRows(code, from);
    pages += fetched.pages;
    const { good, rejected } = validateRows(fetched.rows, now());
    let stored: ReturnType<Store['readEntity']> = [];
    let prev: ReturnType<Store['readEntity']>[number] | undefined;
    try {
      if (entry) {
        const recent = store.readEntity(code, { from: minusDays(from, 31), raw: true });
        stored = recent.filter((r) => r.date >= from);
        prev = recent.filter((r) => r.date < from).at(-1);
      }
    } catch (err) {
      throw new CriticalError(`cannot read ${code} from the store: ${(err as Error).message}`);
    }
    const plan = planUpdate(stored, prev, good);
    let rowsAdded = 0;
    if (plan.rows.length > 0 || plan.adjustments.length > 0) {
      try {
        const meta = entry ? { code } : { code, market: source.market, currency: source.currency };
        const res = batch.add(meta, plan.rows, { adjustments: plan.adjustments, now: now() });
        rowsAdded = res.rowsAdded;
        rejected.push(...res.rejected);
      } catch (err) {
        if (isEntityStoreError(err)) throw new NonRetryableError((err as Error).message);
        throw new CriticalError(`cannot write ${code} to the store: ${(err as Error).message}`);
      }
    }
    if (plan.adjustments.length > 0) {
      runLog.info(
        { code, adjustments: plan.adjustments },
        'corporate action detected; adjusted history rebuilt',
      );
    }
    if (plan.corrected.length > 0)
      runLog.info({ code, dates: plan.corrected }, 'source corrected past prices');
    if (rejected.length > 0) runLog.warn({ code, rejected: rejected.length }, 'rows rejected');
    pending.push({
      code,
      rowsAdded,
      rejected: rejected.map((r) => ({ code, date: r.date, reason: `${r.reason}: ${r.detail}` })),
    });
    if (batch.size >= BATCH_MAX_STOCKS || Date.now() - lastCommit >= BATCH_MAX_MS) flush();
  }

  let finished = codes.length - queue.length;
  async function worker(): Promise<void> {
    for (;;) {
      if (stoppedBy || opts.signal?.aborted) return;
      const code = queue.shift();
      if (code === undefined) return;
      try {
        await scrapeOne(code);
      } catch (err) {
        const e = err instanceof Error ? err : new Error(String(err));
        if (e instanceof CriticalError) {
          cp.failed.push({ code, reason: e.message });
          stop(e.message);
          return;
        }
        if (e instanceof RobotsDisallowedError) {
          cp.skipped.push({ code, reason: e.message });
          runLog.warn({ code, reason: e.message }, 'skipped');
        } else {
          const reason = e instanceof NonRetryableError ? e.message : `gave up after retries: ${e.message}`;
          cp.failed.push({ code, reason });
          runLog.error({ code, reason }, 'stock failed');
        }
      }
      finished++;
      progress.update(finished, { detail: code });
    }
  }

  try {
    await Promise.all(
      Array.from({ length: Math.min(source.limits.concurrency, Math.max(queue.length, 1)) }, worker),
    );
    flush();
  } finally {
    if (pending.length > 0) {
      // Only reached when a worker threw past its own handler; nothing staged may be published blind.
      batch.abort();
      for (const p of pending) queue.push(p.code);
    }
    progress.stop();
    await adapter
      .close()
      .catch((err: Error) => runLog.warn({ reason: err.message }, 'closing the adapter failed'));
    await client.close();
    store.close();
  }
  // An abort that came after the last stock was taken changes nothing: the run is complete.
  if (!stoppedBy && opts.signal?.aborted && queue.length > 0) stoppedBy = 'interrupted';
  for (const code of queue) cp.skipped.push({ code, reason: `not attempted: run stopped (${stoppedBy})` });

  const report: RunReport = runReportSchema.parse({
    id: cp.id,
    source: source.name,
    startedAt: cp.startedAt,
    finishedAt: now().toISOString(),
    durationMs: Date.now() - (resumed ? Date.parse(cp.startedAt) : started),
    ok: cp.ok,
    failed: cp.failed,
    skipped: cp.skipped,
    rowsAdded: cp.rowsAdded,
    rowsRejected: cp.rowsRejected,
    success: !stoppedBy && cp.failed.length === 0,
  });
  const reportPath = join(dataDir, RUNS_DIR, `${cp.id}.json`);
  try {
    writeFileAtomic(reportPath, `${JSON.stringify(report, null, 2)}\n`);
  } catch (err) {
    throw new CriticalError(`cannot write the run report ${reportPath}: ${(err as Error).message}`);
  }
  // A run that stopped early keeps its checkpoint so the next start resumes it.
  if (!stoppedBy) clearCheckpoint(dataDir, source.name);
  runLog.info(
    {
      ok: report.ok.length,
      failed: report.failed.length,
      skipped: report.skipped.length,
      rowsAdded: report.rowsAdded,
      durationMs: report.durationMs,
      report: reportPath,
    },
    'run finished',
  );
  return { report, reportPath, pages, stoppedBy };
}
