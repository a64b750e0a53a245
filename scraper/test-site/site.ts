import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadFixturePrices, syntheticPrices, type SiteRow } from './dataset.js';

/**
 * Failure modes a stock can be given. Each reproduces something the real sites did to the original
 * scraper: flaky 5xx, rate limiting, delisted codes, redesigns, cut-off responses, bad data, splits.
 */
export type Fault =
  | { kind: 'error500'; times: number }
  | { kind: 'rate429'; times: number; retryAfterS: number }
  | { kind: 'notFound' }
  | { kind: 'layout' }
  | { kind: 'truncated' }
  | { kind: 'impossible' }
  | { kind: 'split'; exDate: string; ratio: number; revised: boolean };

export interface TestSiteOptions {
  /** Prices by code; default: the real fixture tickers, or `synthetic` stocks derived from them. */
  prices?: Map<string, SiteRow[]>;
  synthetic?: number;
  /** The site's "today": rows after it are not published yet. */
  asOf?: string;
  faults?: Record<string, Fault>;
  /** Extra robots.txt Disallow paths for every user agent. */
  robotsDisallow?: string[];
  /** robots.txt answers 500 this many times before it recovers (Infinity: never). */
  robotsErrors?: number;
  /** robots.txt Crawl-delay in seconds. */
  crawlDelayS?: number;
  port?: number;
  /** Called for every request before it is answered (tests use it to break things mid-run). */
  onRequest?: (path: string) => void;
}

export interface Hit {
  path: string;
  status: number;
  at: number;
}

export interface TestSite {
  url: string;
  hits: Hit[];
  codes: string[];
  setAsOf(date: string): void;
  /** What the site publishes for `code` now (after faults), in date order. */
  published(code: string): SiteRow[];
  /** Dates of the rows the `impossible` fault corrupted. */
  corruptedDates(code: string): string[];
  close(): Promise<void>;
}

const HTML_HEADERS = ['日付', '始値', '高値', '安値', '終値', '出来高'];
const CSV_HEADER = 'Date,Open,High,Low,Close,Volume';

const r4 = (x: number) => Math.round(x * 10_000) / 10_000;

/** Every 150th row gets one impossible value, cycling through the kinds the store must reject. */
function corrupt(rows: SiteRow[]): { rows: SiteRow[]; dates: string[] } {
  const dates: string[] = [];
  const out = rows.map((r, i) => {
    if (i % 150 !== 75) return r;
    dates.push(r.date);
    switch (((i / 150) % 3) | 0) {
      case 0:
        return { ...r, high: r4(r.low * 0.9) };
      case 1:
        return { ...r, close: -r.close };
      default:
        return { ...r, volume: -100 };
    }
  });
  return { rows: out, dates };
}

/**
 * A split: from `exDate` on, prices are divided by `ratio` and volume multiplied by it. When `revised`,
 * the site also republishes its whole history split-adjusted once the split is public (asOf >= exDate).
 */
function applySplit(
  rows: SiteRow[],
  exDate: string,
  ratio: number,
  revised: boolean,
  asOf: string,
): SiteRow[] {
  const adjustPast = revised && asOf >= exDate;
  return rows.map((r) =>
    r.date >= exDate || adjustPast
      ? {
          date: r.date,
          open: r4(r.open / ratio),
          high: r4(r.high / ratio),
          low: r4(r.low / ratio),
          close: r4(r.close / ratio),
          volume: Math.round(r.volume * ratio),
        }
      : r,
  );
}

function yearPage(code: string, year: number, rows: SiteRow[], layout: boolean): string {
  const head = layout
    ? '<tr><th>Date</th><th>Open</th><th>High</th><th>Low</th><th>Close</th><th>Volume</th></tr>'
    : `<tr>${HTML_HEADERS.map((h) => `<th>${h}</th>`).join('')}</tr>`;
  const body = rows
    .map((r) =>
      layout
        ? `<tr><td>${r.date}</td><td>${r.open}</td><td>${r.high}</td><td>${r.low}</td><td>${r.close}</td><td>${r.volume}</td></tr>`
        : `<tr><td>${r.date.replaceAll('-', '/')}</td><td>${r.open}</td><td>${r.high}</td><td>${r.low}</td><td>${r.close}</td><td>${r.volume.toLocaleString('en-US')}</td></tr>`,
    )
    .join('\n');
  const tableClass = layout ? 'quotes-v2' : 'stock_table';
  return `<!doctype html><html lang="ja"><head><meta charset="utf-8"><title>${code} ${year}</title></head><body>
<h1>${code} 株価 ${year}年</h1>
<table class="${tableClass}"><thead>${head}</thead>
<tbody>
${body}
</tbody></table>
<footer id="page-end">Fixture site. Prices: IEX via Kaggle "S&amp;P 500 stock data".</footer>
</body></html>`;
}

function indexPage(code: string, years: number[]): string {
  const items = years.map((y) => `<li><a href="/html/${code}/${y}.html">${y}</a></li>`).join('');
  return `<!doctype html><html lang="ja"><head><meta charset="utf-8"><title>${code}</title></head><body>
<h1>${code}</h1><ul class="years">${items}</ul><footer id="page-end"></footer></body></html>`;
}

/** Starts the fixture site on 127.0.0.1 (port 0 = a free port unless `port` is given). */
export async function startTestSite(opts: TestSiteOptions = {}): Promise<TestSite> {
  const real = opts.prices ?? loadFixturePrices();
  const prices = opts.synthetic ? syntheticPrices(real, opts.synthetic) : real;
  const faults = opts.faults ?? {};
  let asOf = opts.asOf ?? '9999-12-31';
  const hits: Hit[] = [];
  const failuresServed = new Map<string, number>();
  let robotsErrorsServed = 0;

  function published(code: string): SiteRow[] | undefined {
    const base = prices.get(code);
    const fault = faults[code];
    if (!base || fault?.kind === 'notFound') return undefined;
    let rows = base.filter((r) => r.date <= asOf);
    if (fault?.kind === 'impossible') rows = corrupt(rows).rows;
    if (fault?.kind === 'split') rows = applySplit(rows, fault.exDate, fault.ratio, fault.revised, asOf);
    return rows;
  }

  function send(res: ServerResponse, path: string, status: number, type: string, body: string, headers = {}) {
    hits.push({ path, status, at: Date.now() });
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), ...headers });
    res.end(body);
  }

  /** 500 / 429 faults answer the first `times` requests for the stock, then the site recovers. */
  function transientFault(code: string, path: string, res: ServerResponse): boolean {
    const fault = faults[code];
    if (fault?.kind !== 'error500' && fault?.kind !== 'rate429') return false;
    const served = failuresServed.get(code) ?? 0;
    if (served >= fault.times) return false;
    failuresServed.set(code, served + 1);
    if (fault.kind === 'error500') send(res, path, 500, 'text/plain', 'internal error');
    else send(res, path, 429, 'text/plain', 'slow down', { 'retry-after': String(fault.retryAfterS) });
    return true;
  }

  function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    opts.onRequest?.(path);
    if (path === '/robots.txt') {
      if ((opts.robotsErrors ?? 0) > robotsErrorsServed) {
        robotsErrorsServed++;
        return send(res, path, 500, 'text/plain', 'robots unavailable');
      }
      const dis = ['/private/', ...(opts.robotsDisallow ?? [])].map((p) => `Disallow: ${p}`).join('\n');
      const delay = opts.crawlDelayS === undefined ? '' : `Crawl-delay: ${opts.crawlDelayS}\n`;
      return send(res, path, 200, 'text/plain', `User-agent: *\n${dis}\n${delay}`);
    }
    let m = /^\/csv\/([^/]+)\.csv$/.exec(path);
    if (m) {
      const code = decodeURIComponent(m[1]);
      if (transientFault(code, path, res)) return;
      const rows = published(code);
      if (!rows) return send(res, path, 404, 'text/plain', 'no such stock');
      const from = url.searchParams.get('from') ?? '';
      const fault = faults[code];
      const header = fault?.kind === 'layout' ? 'day;opening;top;bottom;last;qty' : CSV_HEADER;
      const lines = rows
        .filter((r) => r.date >= from)
        .map((r) => `${r.date},${r.open},${r.high},${r.low},${r.close},${r.volume}`);
      const body = `${header}\n${lines.join('\n')}\n`;
      if (fault?.kind === 'truncated') {
        // Announce the full length, send part of it, then drop the connection, as a dying proxy does.
        hits.push({ path, status: 200, at: Date.now() });
        res.writeHead(200, { 'content-type': 'text/csv', 'content-length': Buffer.byteLength(body) });
        res.write(body.slice(0, Math.floor(body.length * 0.6)));
        setTimeout(() => res.destroy(), 5);
        return;
      }
      return send(res, path, 200, 'text/csv; charset=utf-8', body);
    }
    m = /^\/html\/([^/]+)\/(?:(\d{4})\.html)?$/.exec(path);
    if (m) {
      const code = decodeURIComponent(m[1]);
      if (transientFault(code, path, res)) return;
      const rows = published(code);
      if (!rows) return send(res, path, 404, 'text/html', '<h1>404 銘柄が見つかりません</h1>');
      const fault = faults[code];
      if (!m[2]) {
        const years = [...new Set(rows.map((r) => Number(r.date.slice(0, 4))))];
        return send(res, path, 200, 'text/html; charset=utf-8', indexPage(code, years));
      }
      const year = Number(m[2]);
      const yearRows = rows.filter((r) => r.date.startsWith(`${year}-`));
      if (yearRows.length === 0) return send(res, path, 404, 'text/html', '<h1>404</h1>');
      let html = yearPage(code, year, yearRows, fault?.kind === 'layout');
      // A backend that timed out mid-render: a complete HTTP response holding half a document.
      if (fault?.kind === 'truncated') html = html.slice(0, Math.floor(html.length * 0.5));
      return send(res, path, 200, 'text/html; charset=utf-8', html);
    }
    send(res, path, 404, 'text/plain', 'not found');
  }

  const server: Server = createServer(handle);
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, '127.0.0.1', () => ok());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    codes: [...prices.keys()],
    setAsOf(date) {
      asOf = date;
    },
    published: (code) => published(code) ?? [],
    corruptedDates(code) {
      const base = (prices.get(code) ?? []).filter((r) => r.date <= asOf);
      return corrupt(base).dates;
    },
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
