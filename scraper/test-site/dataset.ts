import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { PriceRow } from '@resemble/contracts';

/** One trading day as the fixture site publishes it. */
export type SiteRow = PriceRow;

export const FIXTURE_PRICES = resolve(import.meta.dirname, '../fixtures/scrape/prices.csv.gz');

/** Real prices of the fixture tickers (scraper/fixtures/scrape/SOURCE.md), by ticker, in date order. */
export function loadFixturePrices(file = FIXTURE_PRICES): Map<string, SiteRow[]> {
  const lines = gunzipSync(readFileSync(file)).toString('utf8').trim().split('\n');
  const byCode = new Map<string, SiteRow[]>();
  for (const line of lines.slice(1)) {
    const [ticker, date, open, high, low, close, volume] = line.split(',');
    let rows = byCode.get(ticker);
    if (!rows) byCode.set(ticker, (rows = []));
    rows.push({ date, open: +open, high: +high, low: +low, close: +close, volume: Math.round(+volume) });
  }
  for (const rows of byCode.values()) rows.sort((a, b) => (a.date < b.date ? -1 : 1));
  return byCode;
}

const round4 = (x: number) => Math.round(x * 10_000) / 10_000;

/**
 * `count` stocks for benchmarks, S0001..S<count>: stock i is real series (i mod n) scaled by a factor
 * between 0.5 and 2, so every stock has realistic daily moves without inventing a price path.
 */
export function syntheticPrices(real: Map<string, SiteRow[]>, count: number): Map<string, SiteRow[]> {
  const series = [...real.values()];
  const out = new Map<string, SiteRow[]>();
  for (let i = 1; i <= count; i++) {
    const base = series[(i - 1) % series.length];
    const k = 0.5 + ((i * 37) % 151) / 100;
    const code = `S${String(i).padStart(4, '0')}`;
    out.set(
      code,
      base.map((r) => ({
        date: r.date,
        open: round4(r.open * k),
        high: round4(r.high * k),
        low: round4(r.low * k),
        close: round4(r.close * k),
        volume: r.volume,
      })),
    );
  }
  return out;
}
