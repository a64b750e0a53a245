import { afterEach, describe, expect, it } from 'vitest';
import { computeAdjusted, openStore, readEntity } from '../store/index.js';
import { silentLogger, tempDir } from '../../test/helpers.js';
import { startPolygonStandIn, type PolygonStandInOptions } from '../../test-site/polygon.stand-in.js';
import { ApiClient } from './api-client.js';
import { runMarketDays } from './market-day.service.js';
import { polygonSource } from './polygon.source.js';

const KEY = 'poly-key';
let cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups) await c();
  cleanups = [];
});
async function setup(o: Partial<PolygonStandInOptions> = {}) {
  const s = await startPolygonStandIn({
    apiKey: KEY,
    tickers: ['AAPL', 'MSFT', 'BRK.B', 'NVDA'],
    firstDay: '2024-06-03',
    lastDay: '2024-06-14',
    ...o,
  });
  cleanups.push(() => s.close());
  const api = new ApiClient({
    baseUrl: s.url,
    auth: { header: 'authorization', value: `Bearer ${KEY}` },
    requestsPerMinute: 60_000,
    userAgent: 'test',
    log: silentLogger,
    retries: 3,
    backoffBaseMs: 10,
  });
  cleanups.push(() => api.close());
  const t = tempDir('resemble-polygon-');
  cleanups.push(t.cleanup);
  return { s, api, dir: t.dir, src: polygonSource(api) };
}
const now = () => new Date('2024-06-14T23:00:00Z');

describe('US bulk end-of-day source (polygon) against its stand-in', () => {
  it('one grouped call a day for the whole market, a past holiday skipped, 429 honoured', async () => {
    const { s, api, dir, src } = await setup({
      holidays: ['2024-06-10'],
      throttleFirst: { count: 1, retryAfterS: 1 },
    });
    // 2024-06-10 is closed in the stand-in but not in "upcoming" (it is past): the empty answer says closed.
    s.requests.length = 0;
    const res = await runMarketDays({
      dataDir: dir,
      source: src,
      log: silentLogger,
      since: '2024-06-03',
      now,
    });
    expect(res.report.success).toBe(true);
    expect(api.throttled).toBe(1);
    const grouped = s.requests.filter((r) => r.path.startsWith('/v2/aggs/grouped/'));
    // 10 weekdays asked (plus the retried one); 9 trading days stored.
    expect(new Set(grouped.map((r) => r.path.slice(-10))).size).toBe(10);
    expect(grouped.every((r) => r.query.adjusted === 'false')).toBe(true);
    const store = openStore(dir);
    expect(store.listCatalog().map((e) => [e.code, e.row_count, e.market])).toEqual([
      ['AAPL', 9, 'US'],
      ['BRK-B', 9, 'US'],
      ['MSFT', 9, 'US'],
      ['NVDA', 9, 'US'],
    ]);
    store.close();
  });

  it('stores a split on its execution date and rebuilds the adjusted history', async () => {
    const { dir, src } = await setup({ split: { ticker: 'NVDA', date: '2024-06-10', from: 1, to: 10 } });
    await runMarketDays({ dataDir: dir, source: src, log: silentLogger, since: '2024-06-03', now });
    const store = openStore(dir);
    expect(store.readAdjustments('NVDA')).toEqual([{ exDate: '2024-06-10', kind: 'split', factor: 0.1 }]);
    store.close();
    const raw = readEntity(dir, 'NVDA', { raw: true });
    expect(readEntity(dir, 'NVDA')).toEqual(
      computeAdjusted(raw, [{ exDate: '2024-06-10', kind: 'split', factor: 0.1 }]),
    );
    expect(raw.find((r) => r.date === '2024-06-07')!.close).toBeGreaterThan(
      raw.find((r) => r.date === '2024-06-10')!.close * 5,
    );
  });

  it('refuses a wrong key at once and backfills one ticker by range', async () => {
    const { s, dir, src } = await setup();
    const bad = new ApiClient({
      baseUrl: s.url,
      auth: { header: 'authorization', value: 'Bearer nope' },
      requestsPerMinute: 60_000,
      userAgent: 't',
      log: silentLogger,
    });
    cleanups.push(() => bad.close());
    const refused = await runMarketDays({
      dataDir: dir,
      source: polygonSource(bad),
      log: silentLogger,
      since: '2024-06-03',
      now,
    });
    expect(refused.report.failed[0]?.reason).toMatch(/HTTP 401/);
    expect(bad.requests).toBe(1);
    const res = await runMarketDays({
      dataDir: dir,
      source: src,
      log: silentLogger,
      codes: ['BRK-B'],
      since: '2024-06-03',
      until: '2024-06-07',
      now,
    });
    expect(res.report.ok).toEqual(['BRK-B']);
    expect(s.requests.some((r) => r.path === '/v2/aggs/ticker/BRK.B/range/1/day/2024-06-03/2024-06-07')).toBe(
      true,
    );
    expect(readEntity(dir, 'BRK-B')).toHaveLength(5);
  });
});
