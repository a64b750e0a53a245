import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLogger, htmlSource, USER_AGENT } from '../../test-site/harness.js';
import { startTestSite, type TestSite } from '../../test-site/site.js';
import { openStore } from '../store/index.js';
import { closeBrowser, launchBrowser } from './adapters/browser.js';
import { runScrape, type ScrapeResult } from './scrape.service.js';

// One browser for the whole file: the adapter reuses it across pages, stocks and runs.
let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await closeBrowser(browser);
});

const tmp = () => mkdtempSync(join(tmpdir(), 'resemble-scrape-html-'));

describe('html-table scrape against the fixture site, every failure mode in one run', () => {
  let site: TestSite;
  let dataDir: string;
  let result: ScrapeResult;
  let logs: ReturnType<typeof captureLogger>['lines'];

  beforeAll(async () => {
    site = await startTestSite({
      asOf: '2014-03-31',
      faults: {
        AAPL: { kind: 'error500', times: 2 },
        MSFT: { kind: 'rate429', times: 1, retryAfterS: 1 },
        XOM: { kind: 'notFound' },
        KO: { kind: 'layout' },
        PG: { kind: 'truncated' },
        GE: { kind: 'impossible' },
      },
      robotsDisallow: ['/html/JNJ/'],
    });
    dataDir = tmp();
    const cap = captureLogger();
    logs = cap.lines;
    result = await runScrape({
      dataDir,
      source: htmlSource(site.url, { retries: 2 }),
      userAgent: USER_AGENT,
      codes: site.codes,
      log: cap.log,
      browser,
      progress: { tty: false },
    });
  });
  afterAll(async () => {
    await site.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const store = () => openStore(dataDir, { readonly: true });
  const reason = (code: string) => result.report.failed.find((f) => f.code === code)?.reason;

  it('reports each stock with the right outcome', () => {
    expect(result.report.success).toBe(false);
    expect([...result.report.ok].sort()).toEqual(['AAPL', 'F', 'GE', 'MSFT']);
    expect(result.report.failed.map((f) => f.code).sort()).toEqual(['KO', 'PG', 'XOM']);
    expect(result.report.skipped.map((s) => s.code)).toEqual(['JNJ']);
    // index page + one page per year (2013, 2014) for each stock that got that far
    expect(result.pages).toBeGreaterThanOrEqual(4 * 3);
  });

  it('reads the Japanese-headed tables into exactly the published rows', () => {
    for (const code of ['AAPL', 'F', 'MSFT']) {
      expect(store().readEntity(code), code).toEqual(site.published(code));
    }
    expect(logs.filter((l) => l.msg === 'retrying' && l.code === 'AAPL')).toHaveLength(2);
  });

  it('honours Retry-After on a page', () => {
    const hits = site.hits.filter((h) => h.path.startsWith('/html/MSFT/'));
    const i = hits.findIndex((h) => h.status === 429);
    expect(i).toBeGreaterThanOrEqual(0);
    expect(hits[i + 1].at - hits[i].at).toBeGreaterThanOrEqual(990);
  });

  it('fails 404, changed layout and truncated pages with clear reasons', () => {
    expect(reason('XOM')).toMatch(/not found \(HTTP 404\)/);
    expect(reason('KO')).toMatch(/layout changed: no table table\.stock_table/);
    expect(reason('PG')).toMatch(/gave up after retries: page truncated/);
    for (const code of ['XOM', 'KO', 'PG'])
      expect(existsSync(join(dataDir, 'entities', `${code}.sqlite`))).toBe(false);
  });

  it('rejects impossible values row by row', () => {
    const bad = site.corruptedDates('GE');
    expect(bad.length).toBeGreaterThan(0);
    expect(result.report.rowsRejected.filter((r) => r.code === 'GE').map((r) => r.date)).toEqual(bad);
    expect(store().readEntity('GE')).toHaveLength(site.published('GE').length - bad.length);
  });

  it('never requests what robots.txt disallows', () => {
    expect(site.hits.some((h) => h.path.startsWith('/html/JNJ/'))).toBe(false);
  });
});

describe('html-table incremental run with a split', () => {
  it('fetches only the recent year pages and rebuilds the adjusted history', async () => {
    const site = await startTestSite({
      asOf: '2015-06-30',
      faults: { KO: { kind: 'split', exDate: '2015-09-01', ratio: 2, revised: true } },
    });
    const dataDir = tmp();
    try {
      const run = () =>
        runScrape({
          dataDir,
          source: htmlSource(site.url),
          userAgent: USER_AGENT,
          codes: ['KO', 'F'],
          log: captureLogger().log,
          browser,
        });
      expect((await run()).report.success).toBe(true);
      site.setAsOf('2015-12-31');
      const before = site.hits.length;
      const second = await run();
      expect(second.report.success).toBe(true);
      // Only the index page and the 2015 page are loaded again, never 2013 or 2014.
      const paths = site.hits.slice(before).map((h) => h.path);
      expect(paths.filter((p) => p.startsWith('/html/F/')).sort()).toEqual(['/html/F/', '/html/F/2015.html']);
      const s = openStore(dataDir, { readonly: true });
      expect(s.readEntity('F')).toEqual(site.published('F'));
      const adj = s.readAdjustments('KO');
      expect(adj.map((a) => [a.kind, a.factor])).toEqual([['split', 0.5]]);
      const published = site.published('KO');
      const rows = s.readEntity('KO');
      expect(rows).toHaveLength(published.length);
      rows.forEach((r, i) => expect(r.close).toBeCloseTo(published[i].close, 3));
    } finally {
      await site.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
