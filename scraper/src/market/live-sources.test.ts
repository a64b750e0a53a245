import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { DEFAULT_SOURCES_FILE, loadSources } from '../scrape/source-config.js';
import { openStore } from '../store/index.js';
import { SCRAPER_DIR, TSX_BIN, silentLogger, tempDir } from '../../test/helpers.js';
import { startJQuantsStandIn } from '../../test-site/jquants.stand-in.js';
import { pageLinks, runJpxListings } from './jpx-listings.source.js';
import { defaultSources } from './live-sources.js';
import { readFileSync } from 'node:fs';

let cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups) await c();
  cleanups = [];
});
const XLS = join(SCRAPER_DIR, 'fixtures/listings/data_j_2019-09-30.sample.xls');

/** A loopback stand-in of JPX's listing page: the file's link sits among others, under a dated path. */
async function jpxSite(): Promise<{ url: string; hits: string[] }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? '');
    if (req.url === '/markets/statistics-equities/misc/01.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<html><body><h1>東証上場銘柄一覧</h1>
        <a href="/english/">English</a><a href='/markets/statistics-equities/misc/tvdivq0000001vg2-att/other.pdf'>PDF</a>
        <a class="link" href="/markets/statistics-equities/misc/tvdivq0000001vg2-att/data_j.xls">東証上場銘柄一覧（2019年9月末）</a></body></html>`);
      return;
    }
    if (req.url === '/markets/statistics-equities/misc/tvdivq0000001vg2-att/data_j.xls') {
      res.writeHead(200, { 'content-type': 'application/vnd.ms-excel' });
      res.end(readFileSync(XLS));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  cleanups.push(() => new Promise((ok) => server.close(ok)));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits };
}

describe('the jpx-listings source', () => {
  it('finds the file link on the page, imports it, and is monthly', async () => {
    const site = await jpxSite();
    const t = tempDir('resemble-jpx-');
    cleanups.push(t.cleanup);
    const source = {
      name: 'jpx-listings',
      kind: 'jpx-listings' as const,
      baseUrl: site.url,
      pagePath: '/markets/statistics-equities/misc/01.html',
      linkPattern: 'data_j\\.xlsx?$',
      everyDays: 28,
    };
    const first = await runJpxListings({ dataDir: t.dir, source, userAgent: 'test', log: silentLogger });
    expect(first.report).toMatchObject({ success: true, rowsAdded: 25 });
    const store = openStore(t.dir);
    expect(store.getCompany('7203')).toMatchObject({ name_ja: 'トヨタ自動車', source: 'jpx-listings' });
    store.close();
    const again = await runJpxListings({ dataDir: t.dir, source, userAgent: 'test', log: silentLogger });
    expect(again.report).toBeNull();
    expect(again.skipped).toMatch(/next after 28 days/);
    const later = await runJpxListings({
      dataDir: t.dir,
      source,
      userAgent: 'test',
      log: silentLogger,
      now: () => new Date(Date.now() + 29 * 86400_000),
    });
    expect(later.report?.success).toBe(true);
    expect(site.hits.filter((h) => h.endsWith('data_j.xls'))).toHaveLength(2);
  });

  it('reads links in any quoting and reports a page without the file', async () => {
    expect(pageLinks(`<a href=/a/data_j.xls>x</a><A HREF='b.html'>`, 'http://h/p/q.html')).toEqual([
      'http://h/a/data_j.xls',
      'http://h/p/b.html',
    ]);
    const site = await jpxSite();
    const t = tempDir('resemble-jpx-');
    cleanups.push(t.cleanup);
    const r = await runJpxListings({
      dataDir: t.dir,
      source: {
        name: 'jpx-listings',
        kind: 'jpx-listings',
        baseUrl: site.url,
        pagePath: '/markets/statistics-equities/misc/01.html',
        linkPattern: 'data_e\\.xls$',
        everyDays: 28,
      },
      userAgent: 'test',
      log: silentLogger,
    });
    expect(r.report?.failed[0]?.reason).toMatch(/no link matching/);
  });
});

describe('live or demo: the sources a scrape without --source runs', () => {
  const file = loadSources(DEFAULT_SOURCES_FILE);
  it('without a key: the default (demo fixture) source, as before', () => {
    expect(defaultSources(file, loadConfig({})).map((s) => s.name)).toEqual([file.defaultSource]);
  });
  it('with keys: the listing, J-Quants and the US source', () => {
    expect(defaultSources(file, loadConfig({ JQUANTS_API_KEY: 'k' })).map((s) => s.name)).toEqual([
      'jpx-listings',
      'jquants',
    ]);
    expect(
      defaultSources(file, loadConfig({ JQUANTS_API_KEY: 'k', POLYGON_API_KEY: 'p' })).map((s) => s.name),
    ).toEqual(['jpx-listings', 'jquants', 'polygon']);
  });

  it('the scrape CLI with JQUANTS_API_KEY runs the live sources against their stand-ins', async () => {
    const jq = await startJQuantsStandIn({
      apiKey: 'cli-key',
      issues: 20,
      firstDay: '2024-12-02',
      lastDay: '2024-12-27',
    });
    cleanups.push(() => jq.close());
    const site = await jpxSite();
    const t = tempDir('resemble-live-cli-');
    cleanups.push(t.cleanup);
    const sourcesFile = join(t.dir, 'sources.json');
    const conf = JSON.parse(readFileSync(DEFAULT_SOURCES_FILE, 'utf8'));
    for (const s of conf.sources) if (s.kind === 'jpx-listings') s.baseUrl = site.url;
    writeFileSync(sourcesFile, JSON.stringify(conf));
    // Asynchronously: the stand-ins answer from this process, which a synchronous spawn would block.
    const res = await promisify(execFile)(
      TSX_BIN,
      [
        'src/scrape.cli.ts',
        '--data',
        join(t.dir, 'store'),
        '--sources',
        sourcesFile,
        '--since',
        '2024-12-20',
      ],
      {
        cwd: SCRAPER_DIR,
        encoding: 'utf8',
        env: {
          ...process.env,
          LOG_LEVEL: 'silent',
          JQUANTS_API_KEY: 'cli-key',
          JQUANTS_BASE_URL: jq.url,
          JQUANTS_PLAN: 'premium',
        },
      },
    );
    const lines = res.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.source)).toEqual(['jpx-listings', 'jquants']);
    expect(lines[1]).toMatchObject({ success: true, dataThrough: '2024-12-27' });
    expect(jq.requests.every((r) => r.path.startsWith('/v2/'))).toBe(true);
  });
});
