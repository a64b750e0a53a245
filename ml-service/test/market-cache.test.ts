import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cacheFile, cacheKey } from '../src/market/market-cache.js';
import { loadMarketData, readCatalog, type MarketData } from '../src/market/market-data.js';
import { loadInWorkers } from '../src/market/market-state.js';
import { businessDays, randomWalk, rng, writeStore, type FixtureEntity } from './support/write-store.js';

function market(seed: number, n: number): FixtureEntity[] {
  const random = rng(seed);
  return ['K1', 'K2', 'K3', 'K4', 'K5'].map((code, i) => {
    const closes = randomWalk(random, n - i * 10);
    closes.fill(closes[20]!, 20, 35); // flat runs must come back identical from a snapshot too
    return { code, dates: businessDays('2005-03-01', n - i * 10), closes };
  });
}

function same(a: MarketData, b: MarketData) {
  for (const k of [
    'offsets',
    'closes',
    'days',
    'sum1',
    'sum2',
    'center',
    'spread',
    'flatRuns',
    'flatOffsets',
  ] as const) {
    expect(Array.from(a[k]), k).toEqual(Array.from(b[k]));
  }
  expect(a.codes).toEqual(b.codes);
  expect(a.dataVersion).toBe(b.dataVersion);
}

describe('market snapshot', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ml-cache-data-'));
  const cacheDir = mkdtempSync(join(tmpdir(), 'ml-cache-'));
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it('writes a snapshot, reloads identical data from it, and re-keys when the store changes', async () => {
    writeStore(dir, market(1, 400), 'c1');
    const load = loadInWorkers(2, cacheDir);
    const cold = await load(dir);
    same(cold, loadMarketData(dir));
    await load.flush();
    const key1 = cacheKey(dir, readCatalog(dir));
    expect(existsSync(cacheFile(cacheDir, key1))).toBe(true);
    const warm = await load(dir);
    same(warm, cold);

    writeStore(dir, market(2, 420), 'c2');
    const key2 = cacheKey(dir, readCatalog(dir));
    expect(key2).not.toBe(key1);
    const next = await load(dir);
    same(next, loadMarketData(dir));
    await load.flush();
    expect(readdirSync(cacheDir)).toEqual([`market-${key2}.bin`]);
  });

  it('falls back to the store when the snapshot is damaged', async () => {
    writeStore(dir, market(3, 380), 'c3');
    const key = cacheKey(dir, readCatalog(dir));
    const load = loadInWorkers(2, cacheDir);
    await load(dir);
    await load.flush();
    // Right size, wrong content would be trusted, so the key (sizes + mtimes + version) is what guards it;
    // a truncated file must not be used.
    writeFileSync(cacheFile(cacheDir, key), Buffer.alloc(10));
    same(await load(dir), loadMarketData(dir));
  });
});
