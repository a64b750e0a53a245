/**
 * `./run.sh start` with a data-provider key (issue 13, section 3): instead of the bundled demo it brings
 * the store up from the live sources — JPX's listing page and J-Quants, here their loopback stand-ins
 * (JPX_LISTINGS_URL, JQUANTS_BASE_URL) — then serves it. Nothing of the demo is imported.
 */
import { readFileSync, readdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, repoRoot, startProcess, stopProcess, type Managed } from '../../scripts/processes.js';
import { startJQuantsStandIn, type JQuantsStandIn } from '../../scraper/test-site/jquants.stand-in.js';

const XLS = join(repoRoot, 'scraper/fixtures/listings/data_j_2019-09-30.sample.xls');
const isoDay = (d: Date) => d.toISOString().slice(0, 10);

/** JPX's listing page: the file's link among others. */
async function jpxSite(): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    if (req.url === '/markets/statistics-equities/misc/01.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<html><body><a href="/english/">English</a>
        <a href="/markets/statistics-equities/misc/att/data_j.xls">東証上場銘柄一覧</a></body></html>`);
    } else if (req.url === '/markets/statistics-equities/misc/att/data_j.xls') {
      res.writeHead(200, { 'content-type': 'application/vnd.ms-excel' });
      res.end(readFileSync(XLS));
    } else res.writeHead(404).end();
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('./run.sh start with JQUANTS_API_KEY', () => {
  let jq: JQuantsStandIn | undefined;
  let jpx: Server | undefined;
  let start: Managed | undefined;
  const work = mkdtempSync(join(tmpdir(), 'resemble-start-live-'));
  afterAll(async () => {
    if (start) await stopProcess(start, 20_000);
    await jq?.close();
    await new Promise((ok) => (jpx ? jpx.close(ok) : ok(undefined)));
    rmSync(work, { recursive: true, force: true });
  });

  it('fills the store from the live sources, not the demo, and serves it', async () => {
    // The stand-in has bars up to today in Tokyo, so the run's calendar ends where the real one would.
    const tokyoToday = isoDay(new Date(Date.now() + 9 * 3600_000));
    const from = isoDay(new Date(Date.now() - 30 * 86_400_000));
    jq = await startJQuantsStandIn({ apiKey: 'start-key', issues: 20, firstDay: from, lastDay: tokyoToday });
    const site = await jpxSite();
    jpx = site.server;
    const dataDir = join(work, 'data');
    const [mlPort, backendPort, port] = [await freePort(), await freePort(), await freePort()];
    start = startProcess('start', process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
      DATA_DIR: dataDir,
      // The app database (and its JWT secret beside it) in the test's folder, not <repo>/data.
      APP_DB: join(work, 'app.sqlite'),
      ML_PORT: String(mlPort),
      BACKEND_PORT: String(backendPort),
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      JQUANTS_API_KEY: 'start-key',
      JQUANTS_BASE_URL: jq.url,
      JQUANTS_PLAN: 'premium',
      JPX_LISTINGS_URL: site.url,
      SCRAPE_INITIAL_DAYS: '10',
    });
    const running = new Promise<void>((ok, fail) => {
      let out = '';
      start!.child.stdout!.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('Resemble is running')) ok();
      });
      start!.child.once('exit', (code) =>
        fail(new Error(`start exited (${code}):\n${start!.tail.join('\n')}`)),
      );
    });
    await running;

    // Both live sources ran and succeeded; their reports are what the operator view reads.
    const reports = readdirSync(join(dataDir, 'runs')).map((f) =>
      JSON.parse(readFileSync(join(dataDir, 'runs', f), 'utf8')),
    );
    expect(reports.map((r) => r.source).sort()).toEqual(['jpx-listings', 'jquants']);
    expect(reports.every((r) => r.success)).toBe(true);
    expect(jq.requests.some((r) => r.path === '/v2/equities/bars/daily')).toBe(true);

    const health = (await (await fetch(`http://127.0.0.1:${backendPort}/api/v1/health`)).json()) as Record<
      string,
      unknown
    >;
    expect(health).toBeTruthy();
    // Served: the stand-in's issues (Tokyo codes, yen), none of the demo's tickers.
    const res = await fetch(`http://127.0.0.1:${backendPort}/api/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'start-live@example.com', password: 'integration long secret' }),
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const cookie = res.headers
      .getSetCookie()
      .map((c) => c.split(';')[0]!)
      .join('; ');
    const find = async (q: string) =>
      (await (
        await fetch(`http://127.0.0.1:${backendPort}/api/v1/entities?q=${encodeURIComponent(q)}&limit=3`, {
          headers: { cookie },
        })
      ).json()) as { entities: { code: string; market: string; hasPrices: boolean; lastDate: string }[] };
    const jp = (await find('1300')).entities[0];
    expect(jp).toMatchObject({ code: '1300', market: 'JP', hasPrices: true });
    expect(jp!.lastDate >= isoDay(new Date(Date.now() - 10 * 86_400_000))).toBe(true);
    expect((await find('トヨタ')).entities[0]).toMatchObject({ code: '7203', market: 'JP' });
    expect((await find('AAPL')).entities.some((e) => e.code === 'AAPL')).toBe(false);
  }, 600_000);
});
