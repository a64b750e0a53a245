/**
 * A daily J-Quants increment of 4,400 issues against the loopback stand-in at the Light plan's rate
 * (60 requests a minute): the master (5 pages), the calendar, one trading day of bars (5 pages of 1,000),
 * into a store that already holds the previous day. Prints wall time, requests and where the time went.
 * Run: npx tsx scraper/bench/jquants.bench.ts [--issues 4400] [--rpm 60]
 */
import { parseArgs } from 'node:util';
import { ApiClient } from '../src/market/api-client.js';
import { JQuants } from '../src/market/jquants.client.js';
import { jquantsSource } from '../src/market/jquants.source.js';
import { runMarketDays } from '../src/market/market-day.service.js';
import { silentLogger, tempDir } from '../test/helpers.js';
import { startJQuantsStandIn } from '../test-site/jquants.stand-in.js';

const { values } = parseArgs({
  options: { issues: { type: 'string', default: '4400' }, rpm: { type: 'string', default: '60' } },
});
const issues = Number(values.issues);
const rpm = Number(values.rpm);
const s = await startJQuantsStandIn({
  apiKey: 'bench',
  issues,
  firstDay: '2024-12-02',
  lastDay: '2024-12-27',
  ratePerMinute: rpm,
});
const t = tempDir('resemble-bench-jquants-');
const mk = (perMinute: number) => {
  const api = new ApiClient({
    baseUrl: s.url,
    auth: { header: 'x-api-key', value: 'bench' },
    requestsPerMinute: perMinute,
    userAgent: 'bench',
    log: silentLogger,
  });
  return { api, src: jquantsSource(new JQuants(api)) };
};
try {
  // The previous day, fetched fast (setup, not measured).
  const setup = mk(60_000);
  await runMarketDays({
    dataDir: t.dir,
    source: setup.src,
    log: silentLogger,
    since: '2024-12-26',
    until: '2024-12-26',
    now: () => new Date('2024-12-26T10:00:00Z'),
  });
  await setup.api.close();
  const { api, src } = mk(rpm);
  const t0 = performance.now();
  const res = await runMarketDays({
    dataDir: t.dir,
    source: src,
    log: silentLogger,
    now: () => new Date('2024-12-27T10:00:00Z'),
  });
  const ms = performance.now() - t0;
  await api.close();
  console.log(
    JSON.stringify({
      bench: 'jquants daily increment (stand-in)',
      issues,
      requestsPerMinute: rpm,
      wallMs: Math.round(ms),
      requests: api.requests,
      throttled429: api.throttled,
      // Requests are spaced 60000/rpm ms apart: that much of the wall time is the plan's rate, the rest is ours.
      rateFloorMs: Math.round(((api.requests - 1) * 60_000) / rpm),
      days: res.days,
      stocksWritten: res.report.ok.length,
      rowsAdded: res.report.rowsAdded,
      success: res.report.success,
    }),
  );
} finally {
  await s.close();
  t.cleanup();
}
