/**
 * A loopback stand-in for the J-Quants API V2, built from its public spec (jpx-jquants.com/en/spec):
 * x-api-key auth (401 without the key), {"data": [...], "pagination_key"} paging, the market calendar
 * (HolDiv), the equities master, daily bars by date and by code with from/to, null bars on days without
 * trades, a 1:2 split (AdjFactor 0.5 on the ex-date, raw prices halve), and 429 with Retry-After when a
 * client goes over the plan's requests per minute (or on demand, for tests).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mulberry32 } from '@resemble/contracts';

export interface JQuantsStandInOptions {
  apiKey: string;
  /** Issues listed (default 4,400). */
  issues?: number;
  /** First and last day with data (trading days between them have bars). */
  firstDay: string;
  lastDay: string;
  /** Holidays (weekdays without trading) in [firstDay, lastDay + a year]. */
  holidays?: string[];
  pageSize?: number;
  /** Requests per minute before 429 (default: unlimited). */
  ratePerMinute?: number;
  /** Answer the first N bars requests with 429 and this Retry-After (seconds). */
  throttleFirst?: { count: number; retryAfterS: number };
  /** The code (four characters) that splits 1:2 and the ex-date. */
  split?: { code: string; exDate: string };
  port?: number;
}

export interface JQuantsStandIn {
  url: string;
  codes: string[];
  requests: { path: string; query: Record<string, string> }[];
  close(): Promise<void>;
}

/** The issue codes: 4,400 four-character codes, a few with a letter like the TSE's since 2024. */
export function standInCodes(n: number): string[] {
  const codes: string[] = [];
  for (let i = 0; codes.length < n; i++) {
    codes.push(i % 500 === 7 ? `${130 + Math.floor(i / 500)}A` : String(1300 + i));
  }
  return codes.sort();
}

const isoDay = (d: Date) => d.toISOString().slice(0, 10);
function* days(from: string, to: string): Generator<string> {
  for (let d = new Date(`${from}T00:00:00Z`); isoDay(d) <= to; d.setUTCDate(d.getUTCDate() + 1))
    yield isoDay(d);
}

/** Deterministic unadjusted bar of an issue on a day (before any split). */
function bar(codeIndex: number, dayIndex: number) {
  const rnd = mulberry32(codeIndex * 100_003 + dayIndex);
  const base = 500 + (codeIndex % 97) * 40;
  const close = Math.round(
    base * (1 + 0.2 * Math.sin(dayIndex / 15 + codeIndex)) * (1 + (rnd() - 0.5) * 0.02),
  );
  const open = Math.round(close * (1 + (rnd() - 0.5) * 0.01));
  return {
    O: open,
    H: Math.max(open, close) + 5,
    L: Math.min(open, close) - 5,
    C: close,
    Vo: Math.floor(1000 + rnd() * 1e6),
  };
}

export async function startJQuantsStandIn(o: JQuantsStandInOptions): Promise<JQuantsStandIn> {
  const codes = standInCodes(o.issues ?? 4400);
  const index = new Map(codes.map((c, i) => [c, i]));
  const holidays = new Set(o.holidays ?? []);
  const calendarEnd = isoDay(new Date(Date.parse(`${o.lastDay}T00:00:00Z`) + 400 * 86400_000));
  const calendar = [...days(o.firstDay, calendarEnd)].map((d) => {
    const wd = new Date(`${d}T00:00:00Z`).getUTCDay();
    return { Date: d, HolDiv: wd === 0 || wd === 6 || holidays.has(d) ? '0' : '1' };
  });
  const tradingDays = calendar.filter((c) => c.HolDiv === '1' && c.Date <= o.lastDay).map((c) => c.Date);
  const dayIndex = new Map(tradingDays.map((d, i) => [d, i]));
  const pageSize = o.pageSize ?? 1000;
  const requests: JQuantsStandIn['requests'] = [];
  const recent: number[] = [];
  let throttled = 0;

  const jqCode = (c: string) => `${c}0`;
  /** Null bar (no trade): every 37th issue on every 5th trading day. */
  const noTrade = (ci: number, di: number) => ci % 37 === 5 && di % 5 === 0;
  const barRow = (code: string, day: string) => {
    const ci = index.get(code)!;
    const di = dayIndex.get(day)!;
    let b: Record<string, number | null> = bar(ci, di);
    let factor = 1;
    if (o.split && code === o.split.code && day >= o.split.exDate) {
      // After a 1:2 split the raw price halves and the volume doubles; AdjFactor 0.5 on the ex-date.
      b = { O: b.O! / 2, H: b.H! / 2, L: b.L! / 2, C: b.C! / 2, Vo: b.Vo! * 2 };
      if (day === o.split.exDate) factor = 0.5;
    }
    if (noTrade(ci, di)) b = { O: null, H: null, L: null, C: null, Vo: null };
    return {
      Date: day,
      Code: jqCode(code),
      ...b,
      UL: '0',
      LL: '0',
      Va: b.C === null ? null : Math.round(b.C * b.Vo!),
      AdjFactor: factor,
      AdjO: b.O,
      AdjH: b.H,
      AdjL: b.L,
      AdjC: b.C,
      AdjVo: b.Vo,
    };
  };

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  const paged = (res: ServerResponse, rows: unknown[], key: string | undefined) => {
    const start = key ? Number(Buffer.from(key, 'base64url').toString()) : 0;
    if (!Number.isInteger(start) || start < 0) return send(res, 400, { message: 'invalid pagination_key' });
    const end = start + pageSize;
    const body: Record<string, unknown> = { data: rows.slice(start, end) };
    if (end < rows.length) body.pagination_key = Buffer.from(String(end)).toString('base64url');
    send(res, 200, body);
  };
  const iso = (s: string | undefined) =>
    s && /^\d{8}$/.test(s) ? `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6)}` : s;

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const q = Object.fromEntries(url.searchParams);
    requests.push({ path: url.pathname, query: q });
    if (req.headers['x-api-key'] !== o.apiKey)
      return send(res, 401, { message: 'The incoming token is invalid or expired.' });
    const now = Date.now();
    while (recent.length && recent[0]! < now - 60_000) recent.shift();
    recent.push(now);
    if (o.ratePerMinute && recent.length > o.ratePerMinute) {
      return send(res, 429, { message: 'Rate limit exceeded' }, { 'retry-after': '1' });
    }
    if (url.pathname === '/v2/equities/bars/daily' && o.throttleFirst && throttled < o.throttleFirst.count) {
      throttled++;
      return send(
        res,
        429,
        { message: 'Rate limit exceeded' },
        { 'retry-after': String(o.throttleFirst.retryAfterS) },
      );
    }
    if (url.pathname === '/v2/markets/calendar') {
      const from = iso(q.from) ?? o.firstDay;
      const to = iso(q.to) ?? calendarEnd;
      return paged(
        res,
        calendar.filter((c) => c.Date >= from && c.Date <= to),
        q.pagination_key,
      );
    }
    if (url.pathname === '/v2/equities/master') {
      return paged(
        res,
        codes.map((c, i) => ({
          Date: o.lastDay,
          Code: jqCode(c),
          CoName: `テスト銘柄${c}`,
          CoNameEn: `TEST ISSUE ${c}`,
          S17: String((i % 17) + 1),
          S17Nm: `17業種${(i % 17) + 1}`,
          S33: String(((i % 33) + 1) * 50).padStart(4, '0'),
          S33Nm: `33業種${(i % 33) + 1}`,
          ScaleCat: i % 10 === 0 ? 'TOPIX Small 1' : '-',
          Mkt: '0111',
          MktNm: i % 3 === 0 ? 'グロース' : 'プライム',
          Mrgn: '1',
          MrgnNm: '信用',
        })),
        q.pagination_key,
      );
    }
    if (url.pathname === '/v2/equities/bars/daily') {
      if (q.date) {
        const day = iso(q.date)!;
        if (!dayIndex.has(day)) return send(res, 200, { data: [] });
        return paged(
          res,
          codes.map((c) => barRow(c, day)),
          q.pagination_key,
        );
      }
      if (q.code) {
        const code = q.code.length === 5 && q.code.endsWith('0') ? q.code.slice(0, 4) : q.code;
        if (!index.has(code)) return send(res, 200, { data: [] });
        const from = iso(q.from) ?? o.firstDay;
        const to = iso(q.to) ?? o.lastDay;
        return paged(
          res,
          tradingDays.filter((d) => d >= from && d <= to).map((d) => barRow(code, d)),
          q.pagination_key,
        );
      }
      return send(res, 400, { message: 'This API requires at least 1 parameter as follows; date,code.' });
    }
    send(res, 404, { message: 'not found' });
  };

  const server = createServer(handle);
  await new Promise<void>((ok) => server.listen(o.port ?? 0, '127.0.0.1', ok));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    codes,
    requests,
    close: () => new Promise((ok) => server.close(() => ok())),
  };
}
