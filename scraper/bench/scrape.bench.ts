/**
 * Scrape throughput from the local fixture site: 500 synthetic stocks (real series, scaled), served by
 * the site in its own process so the scraper does not share a thread with it. Figures are printed,
 * never asserted; the machine is shared, so expect noise.
 *   npx tsx scraper/bench/scrape.bench.ts [--stocks 500] [--html-stocks 500] [--skip-html]
 * csv-http: full history of every stock into an empty store, limits off (target >= 50 stocks/s), then
 * the daily incremental run over the same stocks. html-table: one browser, the site's last year only
 * (index page + one year page per stock), target >= 5 pages/s.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { csvSource, htmlSource, USER_AGENT } from '../test-site/harness.js';
import { createLogger } from '../src/logger.js';
import { closeBrowser, launchBrowser } from '../src/scrape/adapters/browser.js';
import { runScrape } from '../src/scrape/scrape.service.js';

const SITE = resolve(import.meta.dirname, '../test-site/server.ts');
const CSV_TARGET = 50;
const HTML_TARGET = 5;

/** Starts the fixture site in a child process and resolves with its URL. */
function startSite(args: string[]): Promise<{ url: string; child: ChildProcess }> {
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', SITE, '--port', '0', ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child.once('error', fail);
    child.stdout!.once('data', (d: Buffer) =>
      ok({ url: (JSON.parse(d.toString().split('\n')[0]) as { url: string }).url, child }),
    );
  });
}

function codes(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `S${String(i + 1).padStart(4, '0')}`);
}

const noLimits = {
  concurrency: 8,
  perHostConcurrency: 0,
  minTimeMs: 0,
  retries: 2,
  backoffBaseMs: 50,
  backoffMaxMs: 500,
};
const verdict = (value: number, target: number) => (value >= target ? 'OK' : 'BELOW TARGET');

function loadNote(): string {
  const [one] = loadavg();
  return `load average ${one.toFixed(1)} on ${availableParallelism()} cores`;
}

export async function runScrapeBench(
  opts: { stocks?: number; htmlStocks?: number; skipHtml?: boolean } = {},
) {
  const stocks = opts.stocks ?? 500;
  const log = createLogger('warn', 'scrape-bench');
  const out: Record<string, number> = {};
  console.log(
    `scrape bench: ${stocks} stocks from the local fixture site (${loadNote()}; figures on a shared machine are noisy)`,
  );

  const csvSite = await startSite(['--synthetic', String(stocks)]);
  const csvDir = mkdtempSync(join(tmpdir(), 'resemble-scrape-bench-'));
  try {
    const source = csvSource(csvSite.url, noLimits);
    const run = () =>
      runScrape({
        dataDir: csvDir,
        source,
        userAgent: USER_AGENT,
        codes: codes(stocks),
        log,
        progress: { tty: false },
      });
    const cpu0 = process.cpuUsage();
    const full = await run();
    const cpu = process.cpuUsage(cpu0);
    const fullRate = stocks / (full.report.durationMs / 1000);
    out.csvStocksPerSecond = fullRate;
    console.log(
      `csv-http full history: ${full.report.ok.length}/${stocks} stocks, ${full.report.rowsAdded.toLocaleString('en-US')} rows in ` +
        `${(full.report.durationMs / 1000).toFixed(2)} s: ${fullRate.toFixed(1)} stocks/s (target >= ${CSV_TARGET}) ${verdict(fullRate, CSV_TARGET)}; ` +
        `scraper CPU ${((cpu.user + cpu.system) / 1000 / stocks).toFixed(1)} ms/stock`,
    );
    const daily = await run();
    const dailyRate = stocks / (daily.report.durationMs / 1000);
    out.csvIncrementalStocksPerSecond = dailyRate;
    console.log(
      `csv-http incremental (nothing new, 7-day overlap re-checked): ${dailyRate.toFixed(1)} stocks/s, rows added ${daily.report.rowsAdded}`,
    );
  } finally {
    csvSite.child.kill();
    rmSync(csvDir, { recursive: true, force: true });
  }

  if (!opts.skipHtml) {
    const htmlStocks = Math.min(opts.htmlStocks ?? stocks, stocks);
    const htmlSite = await startSite(['--synthetic', String(stocks), '--as-of', '2013-12-31']);
    const htmlDir = mkdtempSync(join(tmpdir(), 'resemble-scrape-bench-html-'));
    const browser = await launchBrowser();
    try {
      const source = htmlSource(htmlSite.url, { ...noLimits, concurrency: 6 });
      const res = await runScrape({
        dataDir: htmlDir,
        source,
        userAgent: USER_AGENT,
        codes: codes(htmlStocks),
        log,
        browser,
        progress: { tty: false },
      });
      const pagesPerSecond = res.pages / (res.report.durationMs / 1000);
      out.htmlPagesPerSecond = pagesPerSecond;
      console.log(
        `html-table (one browser, 6 tabs): ${res.report.ok.length}/${htmlStocks} stocks, ${res.pages} pages in ` +
          `${(res.report.durationMs / 1000).toFixed(2)} s: ${pagesPerSecond.toFixed(1)} pages/s (target >= ${HTML_TARGET}) ${verdict(pagesPerSecond, HTML_TARGET)}`,
      );
    } finally {
      await closeBrowser(browser);
      htmlSite.child.kill();
      rmSync(htmlDir, { recursive: true, force: true });
    }
  }
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: {
      stocks: { type: 'string' },
      'html-stocks': { type: 'string' },
      'skip-html': { type: 'boolean' },
    },
  });
  await runScrapeBench({
    stocks: values.stocks ? Number(values.stocks) : undefined,
    htmlStocks: values['html-stocks'] ? Number(values['html-stocks']) : undefined,
    skipHtml: values['skip-html'],
  });
}
