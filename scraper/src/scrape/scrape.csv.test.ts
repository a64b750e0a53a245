import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runReportSchema } from '@resemble/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLogger, csvSource, USER_AGENT } from '../../test-site/harness.js';
import { startTestSite, type TestSite } from '../../test-site/site.js';
import { openStore } from '../store/index.js';
import { checkpointPath } from './checkpoint.js';
import { runScrape, type ScrapeResult } from './scrape.service.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'resemble-scrape-test-'));

describe('csv-http scrape against the fixture site, every failure mode in one run', () => {
  let site: TestSite;
  let dataDir: string;
  let result: ScrapeResult;
  let logs: ReturnType<typeof captureLogger>['lines'];
  const retries = 3;

  beforeAll(async () => {
    site = await startTestSite({
      asOf: '2015-12-31',
      faults: {
        AAPL: { kind: 'error500', times: 2 },
        MSFT: { kind: 'rate429', times: 1, retryAfterS: 1 },
        XOM: { kind: 'notFound' },
        KO: { kind: 'layout' },
        PG: { kind: 'truncated' },
        GE: { kind: 'impossible' },
      },
      robotsDisallow: ['/csv/JNJ.csv'],
    });
    dataDir = tmp();
    const cap = captureLogger();
    logs = cap.lines;
    result = await runScrape({
      dataDir,
      source: csvSource(site.url, { retries }),
      userAgent: USER_AGENT,
      codes: site.codes,
      log: cap.log,
      progress: { tty: false },
    });
  });
  afterAll(async () => {
    await site.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const failedReason = (code: string) => result.report.failed.find((f) => f.code === code)?.reason;
  const stored = (code: string) => openStore(dataDir, { readonly: true }).readEntity(code);
  const warnings = (code: string) =>
    logs.filter((l) => l.level === 40 && l.code === code && l.msg === 'retrying');
  const errors = (code: string) => logs.filter((l) => l.level === 50 && l.code === code);

  it('writes a valid run report that says the run did not fully succeed', () => {
    const report = runReportSchema.parse(JSON.parse(readFileSync(result.reportPath, 'utf8')));
    expect(report).toEqual(result.report);
    expect(report.success).toBe(false);
    expect(report.ok.sort()).toEqual(['AAPL', 'F', 'GE', 'MSFT']);
    expect(report.failed.map((f) => f.code).sort()).toEqual(['KO', 'PG', 'XOM']);
    expect(report.skipped.map((s) => s.code)).toEqual(['JNJ']);
  });

  it('retries 500s and stores every published row', () => {
    expect(warnings('AAPL')).toHaveLength(2);
    expect(errors('AAPL')).toHaveLength(0);
    const rows = stored('AAPL');
    const published = site.published('AAPL');
    expect(rows).toHaveLength(published.length);
    expect(rows.at(-1)).toEqual(published.at(-1));
  });

  it('waits at least Retry-After after a 429', () => {
    const hits = site.hits.filter((h) => h.path === '/csv/MSFT.csv');
    expect(hits.map((h) => h.status)).toEqual([429, 200]);
    expect(hits[1].at - hits[0].at).toBeGreaterThanOrEqual(990);
    expect(stored('MSFT')).toHaveLength(site.published('MSFT').length);
  });

  it('records a 404 stock as failed without retrying and creates no file', () => {
    expect(failedReason('XOM')).toMatch(/not found \(HTTP 404\)/);
    expect(site.hits.filter((h) => h.path === '/csv/XOM.csv')).toHaveLength(1);
    expect(existsSync(join(dataDir, 'entities', 'XOM.sqlite'))).toBe(false);
    expect(errors('XOM')).toHaveLength(1);
  });

  it('records a changed layout as failed without retrying', () => {
    expect(failedReason('KO')).toMatch(/layout changed: .*no column date \("Date"\)/);
    expect(site.hits.filter((h) => h.path === '/csv/KO.csv')).toHaveLength(1);
  });

  it('retries a truncated download, then fails with one error and one warning per retry', () => {
    expect(failedReason('PG')).toMatch(/gave up after retries/);
    expect(site.hits.filter((h) => h.path === '/csv/PG.csv')).toHaveLength(retries + 1);
    expect(warnings('PG')).toHaveLength(retries);
    expect(errors('PG')).toHaveLength(1);
    expect(existsSync(join(dataDir, 'entities', 'PG.sqlite'))).toBe(false);
  });

  it('rejects impossible rows with a reason each and keeps the good ones', () => {
    const bad = site.corruptedDates('GE');
    expect(bad.length).toBeGreaterThanOrEqual(3);
    const rejected = result.report.rowsRejected.filter((r) => r.code === 'GE');
    expect(rejected.map((r) => r.date).sort()).toEqual(bad);
    expect(new Set(rejected.map((r) => r.reason.split(':')[0]))).toEqual(
      new Set(['ohlc_inconsistent', 'non_positive_price', 'invalid_volume']),
    );
    const rows = stored('GE');
    expect(rows).toHaveLength(site.published('GE').length - bad.length);
    expect(rows.some((r) => bad.includes(r.date))).toBe(false);
  });

  it('respects robots.txt', () => {
    expect(result.report.skipped[0].reason).toMatch(/robots\.txt disallows/);
    expect(site.hits.some((h) => h.path === '/csv/JNJ.csv')).toBe(false);
    expect(site.hits.filter((h) => h.path === '/robots.txt')).toHaveLength(1);
  });

  it('counts added rows in the report', () => {
    const ok = ['AAPL', 'F', 'GE', 'MSFT'];
    const expected = ok.reduce((n, c) => n + stored(c).length, 0);
    expect(result.report.rowsAdded).toBe(expected);
  });
});

describe('incremental runs and splits (csv-http)', () => {
  let site: TestSite;
  let dataDir: string;
  const run = (codes: string[]) =>
    runScrape({
      dataDir,
      source: csvSource(site.url),
      userAgent: USER_AGENT,
      codes,
      log: captureLogger().log,
      progress: { tty: false },
    });

  beforeAll(async () => {
    site = await startTestSite({
      asOf: '2016-06-30',
      faults: {
        KO: { kind: 'split', exDate: '2016-08-01', ratio: 2, revised: true },
        PG: { kind: 'split', exDate: '2016-08-01', ratio: 4, revised: false },
      },
    });
    dataDir = tmp();
  });
  afterAll(async () => {
    await site.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const store = () => openStore(dataDir, { readonly: true });
  // The site rounds split prices to 4 decimals, hence 3-decimal comparisons.
  const expectSameAsSite = (code: string) => {
    const rows = store().readEntity(code);
    const published = site.published(code);
    expect(rows.map((r) => r.date)).toEqual(published.map((r) => r.date));
    rows.forEach((r, i) => {
      expect(r.close).toBeCloseTo(published[i].close, 3);
      expect(r.open).toBeCloseTo(published[i].open, 3);
    });
  };

  it('a second run fetches from the last date minus overlap and adds only the new rows', async () => {
    const first = await run(['F', 'KO', 'PG']);
    expect(first.report.success).toBe(true);
    const before = store().readEntity('F');
    site.setAsOf('2016-12-30');
    const hitsBefore = site.hits.length;
    const second = await run(['F', 'KO', 'PG']);
    expect(second.report.success).toBe(true);
    const fHit = site.hits.slice(hitsBefore).find((h) => h.path === '/csv/F.csv');
    expect(fHit).toBeDefined();
    const after = store().readEntity('F');
    const newRows = site.published('F').filter((r) => r.date > '2016-06-30');
    expect(after).toHaveLength(before.length + newRows.length);
    expect(after.slice(0, before.length)).toEqual(before);
    expect(new Set(after.map((r) => r.date)).size).toBe(after.length);
    const added = second.report.rowsAdded;
    const expectedAdded = ['F', 'KO', 'PG'].reduce(
      (n, c) =>
        n +
        store()
          .readEntity(c, { raw: true })
          .filter((r) => r.date > '2016-06-30').length,
      0,
    );
    expect(added).toBe(expectedAdded);
  });

  it('a revised history (split) becomes an adjustment and the adjusted history is rebuilt', () => {
    const adj = store().readAdjustments('KO');
    expect(adj).toHaveLength(1);
    expect(adj[0].kind).toBe('split');
    expect(adj[0].factor).toBe(0.5);
    expect(adj[0].exDate > '2016-06-30' && adj[0].exDate <= '2016-08-01').toBe(true);
    expectSameAsSite('KO');
    // raw_prices keeps the past as it was published before the split.
    const raw = store().readEntity('KO', { raw: true, to: '2016-06-30' });
    expect(raw.at(-1)!.close).toBeCloseTo(
      site.published('KO').find((r) => r.date === '2016-06-30')!.close * 2,
      3,
    );
  });

  it('an unrevised split is found as a jump at its ex-date', () => {
    const adj = store().readAdjustments('PG');
    expect(adj).toEqual([{ exDate: '2016-08-01', kind: 'split', factor: 0.25 }]);
    const adjusted = store().readEntity('PG');
    const published = site.published('PG');
    // Published: real before the ex-date, real/4 after; adjusted history is real/4 throughout.
    adjusted.forEach((r, i) => {
      const p = published[i];
      expect(r.close).toBeCloseTo(p.date < '2016-08-01' ? p.close / 4 : p.close, 6);
    });
  });

  it('running again with nothing new changes nothing', async () => {
    const version = store().dataVersion();
    const again = await run(['F', 'KO', 'PG']);
    expect(again.report.rowsAdded).toBe(0);
    expect(store().dataVersion()).toBe(version);
    expect(store().readAdjustments('KO')).toHaveLength(1);
  });
});

describe('storage failure (csv-http)', () => {
  it('stops the run with a CriticalError when the store cannot be written', async () => {
    const dataDir = tmp();
    let broken = false;
    // On the first price request the entities folder turns into a file: nothing can be published.
    const site = await startTestSite({
      onRequest: (path) => {
        if (broken || !path.startsWith('/csv/')) return;
        broken = true;
        renameSync(join(dataDir, 'entities'), join(dataDir, 'entities.gone'));
        writeFileSync(join(dataDir, 'entities'), 'not a directory');
      },
    });
    try {
      const cap = captureLogger();
      const res = await runScrape({
        dataDir,
        source: csvSource(site.url, { concurrency: 1 }),
        userAgent: USER_AGENT,
        codes: site.codes,
        log: cap.log,
      });
      expect(res.stoppedBy).toMatch(/cannot write AAPL to the store/);
      expect(res.report.success).toBe(false);
      expect(res.report.ok).toEqual([]);
      expect(res.report.failed).toEqual([
        { code: 'AAPL', reason: expect.stringMatching(/cannot write AAPL/) },
      ]);
      expect(res.report.skipped.map((s) => s.code)).toEqual(site.codes.filter((c) => c !== 'AAPL').sort());
      expect(res.report.skipped.every((s) => /not attempted: run stopped/.test(s.reason))).toBe(true);
      // Only the first stock was fetched: the run stopped instead of fetching what it could not store.
      expect(site.hits.filter((h) => h.path.startsWith('/csv/'))).toHaveLength(1);
      expect(cap.lines.filter((l) => l.msg === 'critical error: stopping the run')).toHaveLength(1);
    } finally {
      await site.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses codes that are not valid entity codes before fetching anything', async () => {
    const dataDir = tmp();
    const site = await startTestSite();
    try {
      await expect(
        runScrape({
          dataDir,
          source: csvSource(site.url),
          userAgent: USER_AGENT,
          codes: ['../x'],
          log: captureLogger().log,
        }),
      ).rejects.toThrow(/invalid entity code/);
      expect(site.hits).toEqual([]);
    } finally {
      await site.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('politeness (csv-http)', () => {
  it('spaces requests to one host by minTimeMs, whatever the stock concurrency', async () => {
    const dataDir = tmp();
    const site = await startTestSite({ asOf: '2013-03-31' });
    try {
      const source = csvSource(site.url, { concurrency: 4, perHostConcurrency: 1, minTimeMs: 120 });
      const res = await runScrape({
        dataDir,
        source,
        userAgent: USER_AGENT,
        codes: site.codes,
        log: captureLogger().log,
      });
      expect(res.report.success).toBe(true);
      const at = site.hits.filter((h) => h.path.startsWith('/csv/')).map((h) => h.at);
      expect(at).toHaveLength(site.codes.length);
      // Arrival times carry network jitter, so check the overall pace: unthrottled, 8 requests with
      // 4 in flight would arrive within a few tens of ms.
      expect(at.at(-1)! - at[0]).toBeGreaterThanOrEqual((at.length - 1) * 120 * 0.8);
    } finally {
      await site.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('retries a failing robots.txt, and fails the host stocks when it never comes back', async () => {
    for (const robotsErrors of [2, Infinity]) {
      const dataDir = tmp();
      const site = await startTestSite({ asOf: '2013-03-31', robotsErrors });
      try {
        const res = await runScrape({
          dataDir,
          source: csvSource(site.url, { retries: 3 }),
          userAgent: USER_AGENT,
          codes: ['F', 'KO'],
          log: captureLogger().log,
        });
        const robotsHits = site.hits.filter((h) => h.path === '/robots.txt');
        if (robotsErrors === 2) {
          expect(res.report.success).toBe(true);
          expect(robotsHits.map((h) => h.status)).toEqual([500, 500, 200]);
        } else {
          expect(res.report.ok).toEqual([]);
          expect(res.report.failed.map((f) => f.code)).toEqual(['F', 'KO']);
          for (const f of res.report.failed) expect(f.reason).toMatch(/robots\.txt unreachable .*HTTP 500/);
          expect(robotsHits).toHaveLength(4);
          expect(site.hits.some((h) => h.path.startsWith('/csv/'))).toBe(false);
        }
      } finally {
        await site.close();
        rmSync(dataDir, { recursive: true, force: true });
      }
    }
  });

  it('slows down further when robots.txt asks for a Crawl-delay', async () => {
    const dataDir = tmp();
    const site = await startTestSite({ asOf: '2013-03-31', crawlDelayS: 0.2 });
    try {
      const source = csvSource(site.url, { concurrency: 4, perHostConcurrency: 4, minTimeMs: 0 });
      const res = await runScrape({
        dataDir,
        source,
        userAgent: USER_AGENT,
        codes: site.codes.slice(0, 5),
        log: captureLogger().log,
      });
      expect(res.report.success).toBe(true);
      const at = site.hits.filter((h) => h.path.startsWith('/csv/')).map((h) => h.at);
      expect(at).toHaveLength(5);
      expect(at.at(-1)! - at[0]).toBeGreaterThanOrEqual(4 * 200 * 0.8);
    } finally {
      await site.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('interruption and resume (csv-http)', () => {
  it('an aborted run commits what it did, keeps its checkpoint, and the next run resumes it', async () => {
    const dataDir = tmp();
    const controller = new AbortController();
    // SIGTERM in the CLI aborts this signal; here the first price request does.
    const site = await startTestSite({ onRequest: (path) => path.startsWith('/csv/') && controller.abort() });
    try {
      const source = csvSource(site.url, { concurrency: 1 });
      const first = await runScrape({
        dataDir,
        source,
        userAgent: USER_AGENT,
        codes: site.codes,
        log: captureLogger().log,
        signal: controller.signal,
      });
      expect(first.stoppedBy).toBe('interrupted');
      expect(first.report.success).toBe(false);
      expect(first.report.ok).toEqual(['AAPL']);
      expect(first.report.skipped).toHaveLength(site.codes.length - 1);
      expect(existsSync(checkpointPath(dataDir, 'fixture-csv'))).toBe(true);

      const before = site.hits.length;
      const second = await runScrape({
        dataDir,
        source,
        userAgent: USER_AGENT,
        codes: site.codes,
        log: captureLogger().log,
      });
      expect(second.report.id).toBe(first.report.id);
      expect(second.report.success).toBe(true);
      expect([...second.report.ok].sort()).toEqual([...site.codes].sort());
      const fetched = site.hits
        .slice(before)
        .filter((h) => h.path.startsWith('/csv/'))
        .map((h) => h.path);
      expect(fetched).not.toContain('/csv/AAPL.csv');
      expect(fetched).toHaveLength(site.codes.length - 1);
      expect(existsSync(checkpointPath(dataDir, 'fixture-csv'))).toBe(false);
      expect(second.reportPath).toBe(first.reportPath);
    } finally {
      await site.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
