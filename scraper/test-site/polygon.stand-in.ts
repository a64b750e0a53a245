/**
 * A loopback stand-in for the Polygon.io (Massive) endpoints the US source uses, built from the public
 * docs: Bearer auth (401 without it), grouped daily bars of the whole market per date (none on closed
 * days), one ticker's range aggregates, splits by execution date (paged with next_url), upcoming market
 * holidays, and 429 with Retry-After for the first N requests when asked to.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mulberry32 } from '@resemble/contracts';

export interface PolygonStandInOptions {
  apiKey: string;
  tickers: string[];
  firstDay: string;
  lastDay: string;
  holidays?: string[];
  upcomingHolidays?: string[];
  split?: { ticker: string; date: string; from: number; to: number };
  throttleFirst?: { count: number; retryAfterS: number };
}

export interface PolygonStandIn {
  url: string;
  requests: { path: string; query: Record<string, string> }[];
  close(): Promise<void>;
}

const iso = (d: Date) => d.toISOString().slice(0, 10);

export async function startPolygonStandIn(o: PolygonStandInOptions): Promise<PolygonStandIn> {
  const holidays = new Set(o.holidays ?? []);
  const days: string[] = [];
  for (let d = new Date(`${o.firstDay}T00:00:00Z`); iso(d) <= o.lastDay; d.setUTCDate(d.getUTCDate() + 1)) {
    const wd = d.getUTCDay();
    if (wd !== 0 && wd !== 6 && !holidays.has(iso(d))) days.push(iso(d));
  }
  const requests: PolygonStandIn['requests'] = [];
  let throttled = 0;
  const agg = (ticker: string, day: string) => {
    const ti = o.tickers.indexOf(ticker);
    const di = days.indexOf(day);
    const rnd = mulberry32(ti * 7919 + di);
    let c = 50 + ti * 3 + di * 0.5 + rnd();
    if (o.split && ticker === o.split.ticker && day >= o.split.date) c = (c * o.split.from) / o.split.to;
    const r = (x: number) => Math.round(x * 100) / 100;
    // Midnight in New York (EST, 05:00 UTC) of the bar's day, as Polygon stamps daily bars.
    return {
      T: ticker,
      o: r(c * 0.99),
      h: r(c * 1.01),
      l: r(c * 0.98),
      c: r(c),
      v: 1000 + ti,
      vw: r(c),
      n: 10,
      t: Date.parse(`${day}T05:00:00Z`),
    };
  };
  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const q = Object.fromEntries(url.searchParams);
    requests.push({ path: url.pathname, query: q });
    if (req.headers.authorization !== `Bearer ${o.apiKey}`)
      return send(res, 401, { status: 'ERROR', error: 'Unknown API Key' });
    if (o.throttleFirst && throttled < o.throttleFirst.count) {
      throttled++;
      return send(
        res,
        429,
        { status: 'ERROR', error: 'You have exceeded the maximum requests per minute' },
        { 'retry-after': String(o.throttleFirst.retryAfterS) },
      );
    }
    let m = /^\/v2\/aggs\/grouped\/locale\/us\/market\/stocks\/(\d{4}-\d{2}-\d{2})$/.exec(url.pathname);
    if (m) {
      const day = m[1]!;
      const results = days.includes(day) ? o.tickers.map((t) => agg(t, day)) : [];
      return send(res, 200, {
        status: 'OK',
        adjusted: q.adjusted !== 'false',
        queryCount: results.length,
        resultsCount: results.length,
        results,
      });
    }
    m = /^\/v2\/aggs\/ticker\/([^/]+)\/range\/1\/day\/(\d{4}-\d{2}-\d{2})\/(\d{4}-\d{2}-\d{2})$/.exec(
      url.pathname,
    );
    if (m) {
      const t = decodeURIComponent(m[1]!);
      const results = o.tickers.includes(t)
        ? days.filter((d) => d >= m![2]! && d <= m![3]!).map((d) => agg(t, d))
        : [];
      return send(res, 200, { ticker: t, status: 'OK', resultsCount: results.length, results });
    }
    if (url.pathname === '/v3/reference/splits') {
      const s = o.split;
      const hit =
        s &&
        (q.execution_date ? q.execution_date === s.date : true) &&
        (q.ticker ? q.ticker === s.ticker : true) &&
        (!q['execution_date.gte'] || s.date >= q['execution_date.gte']) &&
        (!q['execution_date.lte'] || s.date <= q['execution_date.lte']);
      return send(res, 200, {
        status: 'OK',
        results: hit
          ? [{ ticker: s.ticker, execution_date: s.date, split_from: s.from, split_to: s.to }]
          : [],
      });
    }
    if (url.pathname === '/v1/marketstatus/upcoming') {
      return send(
        res,
        200,
        (o.upcomingHolidays ?? []).map((date) => ({
          exchange: 'NYSE',
          name: 'Holiday',
          date,
          status: 'closed',
        })),
      );
    }
    send(res, 404, { status: 'NOT_FOUND' });
  };
  const server = createServer(handle);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise((ok) => server.close(() => ok())),
  };
}
