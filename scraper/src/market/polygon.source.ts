/**
 * The US bulk end-of-day source (decision 084): Polygon.io's (now Massive's) REST API, as its public docs
 * describe it. The key goes in "Authorization: Bearer <key>".
 * - GET /v2/aggs/grouped/locale/us/market/stocks/{YYYY-MM-DD}?adjusted=false → every US stock's daily
 *   bar in one call: {"status":"OK","resultsCount":n,"results":[{"T":ticker,"o","h","l","c","v","t"}]};
 *   no results on a day the market was closed.
 * - GET /v3/reference/splits?execution_date=…&limit=1000 → {"results":[{"ticker","execution_date",
 *   "split_from","split_to"}],"next_url"?}: a 2-for-1 split has split_from 1, split_to 2 (factor 0.5).
 * - GET /v1/marketstatus/upcoming → [{"exchange":"NYSE","date","status":"closed"|"early-close"}]: the
 *   coming holidays; the calendar is weekdays without them.
 * - GET /v2/aggs/ticker/{T}/range/1/day/{from}/{to}?adjusted=false&limit=50000 → one ticker's history.
 */
import { z } from 'zod';
import { ENTITY_CODE_PATTERN } from '@resemble/contracts';
import type { ApiClient } from './api-client.js';
import {
  addDays,
  dateAtOffset,
  type DayBar,
  type DayBars,
  type MarketDaySource,
} from './market-day.service.js';

const aggSchema = z.object({
  T: z.string().optional(),
  o: z.number().nullable().optional(),
  h: z.number().nullable().optional(),
  l: z.number().nullable().optional(),
  c: z.number().nullable().optional(),
  v: z.number().nullable().optional(),
  t: z.number(),
});
const aggsSchema = z.object({
  status: z.string().optional(),
  results: z.array(aggSchema).optional().nullable(),
});
const splitsSchema = z.object({
  results: z.array(
    z.object({
      ticker: z.string(),
      execution_date: z.string(),
      split_from: z.number(),
      split_to: z.number(),
    }),
  ),
  next_url: z.string().optional().nullable(),
});
const upcomingSchema = z.array(
  z.object({ exchange: z.string().optional(), date: z.string(), status: z.string() }),
);

function parse<T>(schema: z.ZodType<T>, raw: unknown, what: string): T {
  const r = schema.safeParse(raw);
  if (!r.success)
    throw new Error(
      `unexpected answer from ${what}: ${r.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join('.')}: ${i.message}`)
        .join('; ')}`,
    );
  return r.data;
}

/** Polygon writes class shares with a dot (BRK.B); the store's codes use '-' (BRK-B), like the demo. */
export const fromPolygonTicker = (t: string) => t.replaceAll('.', '-');

function toBars(rows: z.infer<typeof aggSchema>[], ticker?: string): DayBars {
  const out: DayBars = { bars: [], noTrade: [] };
  for (const r of rows) {
    const code = fromPolygonTicker(r.T ?? ticker ?? '');
    // Test issues, warrants and units with odd symbols are not stocks Resemble can name as files.
    if (!ENTITY_CODE_PATTERN.test(code)) continue;
    if (r.o == null || r.h == null || r.l == null || r.c == null || r.v == null) {
      out.noTrade.push(code);
      continue;
    }
    // t is the start of the bar's day in New York (04:00 or 05:00 UTC): +12 h is safely inside that date.
    const date = new Date(r.t + 12 * 3600_000).toISOString().slice(0, 10);
    out.bars.push({ code, date, open: r.o, high: r.h, low: r.l, close: r.c, volume: Math.round(r.v) });
  }
  return out;
}

export function polygonSource(api: ApiClient, opts: { market?: string } = {}): MarketDaySource {
  const splitsOn = async (date: string): Promise<Map<string, number>> => {
    const m = new Map<string, number>();
    let raw = await api.getJson('/v3/reference/splits', { execution_date: date, limit: '1000' });
    for (;;) {
      const page = parse(splitsSchema, raw, '/v3/reference/splits');
      for (const s of page.results)
        if (s.split_to > 0 && s.split_from > 0) m.set(fromPolygonTicker(s.ticker), s.split_from / s.split_to);
      if (!page.next_url) break;
      const next = new URL(page.next_url);
      raw = await api.getJson(next.pathname, Object.fromEntries(next.searchParams));
    }
    return m;
  };
  const withSplits = (b: DayBars, splits: Map<string, number>, date: string): DayBars => ({
    ...b,
    bars: b.bars.map((x: DayBar) =>
      x.date === date && splits.has(x.code) ? { ...x, splitFactor: splits.get(x.code)! } : x,
    ),
  });
  const today = (now: Date) => dateAtOffset(now, -5);
  return {
    name: 'polygon',
    market: opts.market ?? 'US',
    currency: 'USD',
    today,
    async tradingDays(from, to) {
      const upcoming = parse(
        upcomingSchema,
        await api.getJson('/v1/marketstatus/upcoming'),
        '/v1/marketstatus/upcoming',
      );
      const closed = new Set(
        upcoming
          .filter((u) => u.status === 'closed' && (!u.exchange || u.exchange === 'NYSE'))
          .map((u) => u.date),
      );
      const out: string[] = [];
      for (let d = from; d <= to; d = addDays(d, 1)) {
        const wd = new Date(`${d}T00:00:00Z`).getUTCDay();
        if (wd !== 0 && wd !== 6 && !closed.has(d)) out.push(d);
      }
      return out;
    },
    async barsOnDate(date) {
      const raw = await api.getJson(`/v2/aggs/grouped/locale/us/market/stocks/${date}`, {
        adjusted: 'false',
      });
      const rows = parse(aggsSchema, raw, 'grouped daily').results ?? [];
      // Past holidays are not in "upcoming": an empty past day was a closed market, an empty today is not out yet.
      if (rows.length === 0) return { bars: [], noTrade: [], closed: date < today(new Date()) };
      return withSplits(toBars(rows), await splitsOn(date), date);
    },
    async barsOfCode(code, from, to) {
      const ticker = code.replaceAll('-', '.');
      const raw = await api.getJson(
        `/v2/aggs/ticker/${encodeURIComponent(ticker)}/range/1/day/${from}/${to}`,
        {
          adjusted: 'false',
          limit: '50000',
        },
      );
      const b = toBars(parse(aggsSchema, raw, 'aggregates').results ?? [], ticker);
      const splits = parse(
        splitsSchema,
        await api.getJson('/v3/reference/splits', {
          ticker,
          'execution_date.gte': from,
          'execution_date.lte': to,
          limit: '1000',
        }),
        '/v3/reference/splits',
      ).results;
      const factor = new Map(splits.map((s) => [s.execution_date, s.split_from / s.split_to]));
      return {
        ...b,
        bars: b.bars.map((x) => (factor.has(x.date) ? { ...x, splitFactor: factor.get(x.date)! } : x)),
      };
    },
  };
}
