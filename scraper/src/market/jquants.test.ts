import { afterEach, describe, expect, it } from 'vitest';
import { computeAdjusted, openStore, readEntity } from '../store/index.js';
import { silentLogger, tempDir } from '../../test/helpers.js';
import {
  startJQuantsStandIn,
  type JQuantsStandIn,
  type JQuantsStandInOptions,
} from '../../test-site/jquants.stand-in.js';
import { ApiClient } from './api-client.js';
import { JQuants } from './jquants.client.js';
import { jquantsSource } from './jquants.source.js';
import { runMarketDays } from './market-day.service.js';

const KEY = 'test-key-123';
let cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups) await c();
  cleanups = [];
});
async function standIn(o: Partial<JQuantsStandInOptions> = {}): Promise<JQuantsStandIn> {
  const s = await startJQuantsStandIn({ apiKey: KEY, firstDay: '2024-12-02', lastDay: '2024-12-27', ...o });
  cleanups.push(() => s.close());
  return s;
}
function dir(): string {
  const t = tempDir('resemble-jquants-');
  cleanups.push(t.cleanup);
  return t.dir;
}
function source(url: string, o: { key?: string; rpm?: number } = {}) {
  const api = new ApiClient({
    baseUrl: url,
    auth: { header: 'x-api-key', value: o.key ?? KEY },
    requestsPerMinute: o.rpm ?? 60_000,
    userAgent: 'test',
    log: silentLogger,
    retries: 3,
    backoffBaseMs: 10,
  });
  cleanups.push(() => api.close());
  return { api, src: jquantsSource(new JQuants(api)) };
}
// 2024-12-27 10:00 UTC is 19:00 in Tokyo: that day has begun there.
const now = () => new Date('2024-12-27T10:00:00Z');

describe('jquants source against its stand-in', () => {
  it('a full daily increment of 4,400 issues: master, paged bars, null bars skipped, report with the calendar', async () => {
    const s = await standIn({ issues: 4400, pageSize: 1000 });
    const d = dir();
    const { src } = source(s.url);
    const res = await runMarketDays({ dataDir: d, source: src, log: silentLogger, since: '2024-12-27', now });
    expect(res.days).toEqual(['2024-12-27']);
    expect(res.master).toMatchObject({ added: 4400 });
    const barPages = s.requests.filter((r) => r.path === '/v2/equities/bars/daily');
    expect(barPages.map((r) => r.query.date)).toEqual(Array(5).fill('20241227'));
    expect(barPages.filter((r) => r.query.pagination_key).length).toBe(4);

    const store = openStore(d);
    const catalog = store.listCatalog();
    const noTrade = res.report.skipped.map((x) => x.code);
    expect(catalog.length + noTrade.length).toBe(4400);
    expect(catalog.every((e) => e.market === 'JP' && e.last_date === '2024-12-27' && e.row_count === 1)).toBe(
      true,
    );
    expect(store.listCompanies()).toHaveLength(4400);
    expect(store.getCompany('130A')).toMatchObject({ name_ja: 'テスト銘柄130A', name_en: 'TEST ISSUE 130A' });
    store.close();
    expect(res.report).toMatchObject({
      source: 'jquants',
      market: 'JP',
      dataThrough: '2024-12-27',
      success: true,
    });
    expect(res.report.rowsAdded).toBe(catalog.length);
    expect(res.report.upcomingTradingDays?.[0]).toBe('2024-12-30');
  }, 300_000);

  it('null bars are skipped, not stored as zeros; the calendar decides the days; a second run only fetches what is new', async () => {
    const s = await standIn({ issues: 40, holidays: ['2024-12-10'] });
    const d = dir();
    const { src } = source(s.url);
    const first = await runMarketDays({
      dataDir: d,
      source: src,
      log: silentLogger,
      since: '2024-12-02',
      until: '2024-12-20',
      now,
    });
    // 15 weekdays minus the holiday.
    expect(first.days).toHaveLength(14);
    expect(first.days).not.toContain('2024-12-10');
    const dates = s.requests.filter((r) => r.query.date).map((r) => r.query.date);
    expect(new Set(dates)).toEqual(new Set(first.days.map((x) => x.replaceAll('-', ''))));
    // Issue index 5 (code 1305) has no trade on every 5th trading day: those rows are absent, and no zero is stored.
    const rows = readEntity(d, '1305', { raw: true });
    expect(rows.length).toBeLessThan(14);
    expect(rows.every((r) => r.close > 0 && r.volume > 0)).toBe(true);
    expect(first.report.skipped).toEqual([]);

    s.requests.length = 0;
    const second = await runMarketDays({ dataDir: d, source: src, log: silentLogger, now });
    expect(second.days).toEqual(['2024-12-23', '2024-12-24', '2024-12-25', '2024-12-26', '2024-12-27']);
    expect(readEntity(d, '1300', { raw: true }).at(-1)?.date).toBe('2024-12-27');
  });

  it('a 1:2 split: raw prices as published, the factor as an adjustment, the adjusted history rebuilt', async () => {
    const s = await standIn({ issues: 10, split: { code: '1302', exDate: '2024-12-16' } });
    const d = dir();
    const { src } = source(s.url);
    await runMarketDays({ dataDir: d, source: src, log: silentLogger, since: '2024-12-02', now });
    const store = openStore(d);
    expect(store.readAdjustments('1302')).toEqual([{ exDate: '2024-12-16', kind: 'split', factor: 0.5 }]);
    store.close();
    const raw = readEntity(d, '1302', { raw: true });
    const adjusted = readEntity(d, '1302');
    expect(adjusted).toEqual(computeAdjusted(raw, [{ exDate: '2024-12-16', kind: 'split', factor: 0.5 }]));
    const before = raw.find((r) => r.date === '2024-12-13')!;
    expect(adjusted.find((r) => r.date === '2024-12-13')!.close).toBeCloseTo(before.close / 2, 9);
    expect(adjusted.find((r) => r.date === '2024-12-13')!.volume).toBe(before.volume * 2);
    // On and after the ex-date raw and adjusted agree.
    expect(adjusted.filter((r) => r.date >= '2024-12-16')).toEqual(raw.filter((r) => r.date >= '2024-12-16'));
  });

  it('honours 429 with Retry-After, and stops at once on a refused key', async () => {
    const s = await standIn({ issues: 5, throttleFirst: { count: 2, retryAfterS: 1 } });
    const d = dir();
    const { api, src } = source(s.url);
    const t0 = Date.now();
    const res = await runMarketDays({ dataDir: d, source: src, log: silentLogger, since: '2024-12-27', now });
    expect(res.report.success).toBe(true);
    expect(api.throttled).toBe(2);
    // Two waits of at least the server's Retry-After (1 s each) happened before the bars came.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2000);

    const bad = source(s.url, { key: 'wrong' });
    const refused = await runMarketDays({
      dataDir: dir(),
      source: bad.src,
      log: silentLogger,
      since: '2024-12-27',
      now,
    });
    expect(refused.report.success).toBe(false);
    expect(refused.report.failed[0]?.reason).toMatch(/HTTP 401.*API key was refused/);
    expect(bad.api.requests).toBe(1);
  });

  it('a long fetch that fails half-way keeps the complete days fetched before it; the next run goes on from there', async () => {
    const s = await standIn({ issues: 20 });
    const d = dir();
    const { src } = source(s.url);
    // The provider fails on the 9th trading day (after one written chunk of 5 days and 3 more fetched).
    const failing = {
      ...src,
      barsOnDate: (date: string) =>
        date === '2024-12-12'
          ? Promise.reject(new Error('HTTP 503 from the provider'))
          : src.barsOnDate(date),
    };
    const first = await runMarketDays({
      dataDir: d,
      source: failing,
      log: silentLogger,
      since: '2024-12-02',
      until: '2024-12-20',
      flushEveryDays: 5,
      now,
    });
    expect(first.report.success).toBe(false);
    expect(first.report.failed).toEqual([{ code: '*', reason: 'HTTP 503 from the provider' }]);
    expect(first.report.dataThrough).toBe('2024-12-11');
    expect(readEntity(d, '1300', { raw: true }).map((r) => r.date)).toEqual([
      '2024-12-02',
      '2024-12-03',
      '2024-12-04',
      '2024-12-05',
      '2024-12-06',
      '2024-12-09',
      '2024-12-10',
      '2024-12-11',
    ]);

    s.requests.length = 0;
    const second = await runMarketDays({
      dataDir: d,
      source: src,
      log: silentLogger,
      until: '2024-12-20',
      now,
    });
    expect(second.report.success).toBe(true);
    expect(second.days).toEqual([
      '2024-12-12',
      '2024-12-13',
      '2024-12-16',
      '2024-12-17',
      '2024-12-18',
      '2024-12-19',
      '2024-12-20',
    ]);
    expect(readEntity(d, '1300', { raw: true })).toHaveLength(15);
    // A run that writes in chunks stores the same rows as one that writes once at the end.
    const once = dir();
    await runMarketDays({
      dataDir: once,
      source: src,
      log: silentLogger,
      since: '2024-12-02',
      until: '2024-12-20',
      now,
    });
    for (const code of ['1300', '1305', '1319'])
      expect(readEntity(d, code, { raw: true })).toEqual(readEntity(once, code, { raw: true }));
  });

  it('backfills issues by code with from/to', async () => {
    const s = await standIn({ issues: 10 });
    const d = dir();
    const { src } = source(s.url);
    const res = await runMarketDays({
      dataDir: d,
      source: src,
      log: silentLogger,
      codes: ['1300', '1301'],
      since: '2024-12-02',
      until: '2024-12-13',
      now,
    });
    expect(res.report.ok).toEqual(['1300', '1301']);
    const q = s.requests.filter((r) => r.query.code).map((r) => r.query);
    expect(q).toEqual([
      { code: '1300', from: '20241202', to: '20241213' },
      { code: '1301', from: '20241202', to: '20241213' },
    ]);
    expect(readEntity(d, '1300')).toHaveLength(10);
  });
});
