import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createLogger } from '../src/logger.js';
import { mulberry32 } from '@resemble/contracts';

export const SCRAPER_DIR = resolve(import.meta.dirname, '..');
export const FIXTURES = join(SCRAPER_DIR, 'fixtures/import');
export const TSX_BIN = resolve(SCRAPER_DIR, '../node_modules/.bin/tsx');
export const silentLogger = createLogger('silent');

/** A fresh temp directory per test, removed by the returned cleanup. */
export function tempDir(prefix = 'resemble-store-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Seeded PRNG (mulberry32, shared from contracts) so fixtures are reproducible from a seed. */
export const seededRandom = mulberry32;

/** Valid OHLCV rows on consecutive calendar days from `start`. */
export function makeRows(n: number, seed = 1, start = '2020-01-01') {
  const rnd = seededRandom(seed);
  const t0 = Date.parse(`${start}T00:00:00Z`);
  let price = 50 + rnd() * 50;
  return Array.from({ length: n }, (_, i) => {
    price *= 1 + (rnd() - 0.5) * 0.04;
    const open = Math.round(price * (1 + (rnd() - 0.5) * 0.01) * 100) / 100;
    const close = Math.round(price * 100) / 100;
    const high = Math.round(Math.max(open, close) * (1 + rnd() * 0.02) * 100) / 100;
    const low = Math.round(Math.min(open, close) * (1 - rnd() * 0.02) * 100) / 100;
    return {
      date: new Date(t0 + i * 86400_000).toISOString().slice(0, 10),
      open,
      high,
      low,
      close,
      volume: Math.floor(rnd() * 1e6),
    };
  });
}
