import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { listCatalog, openStore } from '../store/index.js';
import { DEMO_FILE, ensureDemoData } from './index.js';
import { makeRows, silentLogger, tempDir } from '../../test/helpers.js';

describe('ensureDemoData', () => {
  it('imports the bundled S&P 500 demo into an empty store, once', async () => {
    const t = tempDir('resemble-demo-');
    try {
      const summary = await ensureDemoData(t.dir, { logger: silentLogger, progress: false });
      // Figures from scraper/demo/sandp500-5yr/SOURCE.md.
      expect(summary).toMatchObject({ entities: 505, rowsRead: 619017, rowsAdded: 619017, rowsRejected: 0 });
      const catalog = listCatalog(t.dir).filter(
        (e) => e.first_date === '2013-02-08' || e.last_date === '2018-02-07',
      );
      expect(catalog).toHaveLength(505);
      // Row count of every ticker, counted independently from the file.
      const counts = new Map<string, number>();
      for (const line of gunzipSync(readFileSync(DEMO_FILE)).toString('utf8').trim().split('\n').slice(1)) {
        const t = line.slice(0, line.indexOf(','));
        counts.set(t, (counts.get(t) ?? 0) + 1);
      }
      expect(Object.fromEntries(catalog.map((e) => [e.code, e.row_count]))).toEqual(
        Object.fromEntries(counts),
      );
      expect(new Set(catalog.map((e) => `${e.market}/${e.currency}`))).toEqual(new Set(['US/USD']));
      // The 24 Japan-related listings, and names and sectors for all: a Japanese visitor finds トヨタ.
      expect(listCatalog(t.dir)).toHaveLength(505 + 24);
      const store = openStore(t.dir);
      expect(store.getCompany('TM')).toMatchObject({
        name_ja: 'トヨタ自動車',
        name_en: 'Toyota Motor Corp (ADR)',
        kind: 'stock',
      });
      expect(store.getCompany('AAPL')).toMatchObject({
        name_en: 'Apple Inc.',
        gics_sector: 'Information Technology',
      });
      expect(store.getCompany('EWJ')?.kind).toBe('etf');
      expect(store.listCompanies().filter((c) => c.name_en === null && c.name_ja === null)).toEqual([]);
      const version = store.dataVersion();
      store.close();
      expect(await ensureDemoData(t.dir, { logger: silentLogger, progress: false })).toBeNull();
      expect(openStore(t.dir).dataVersion()).toBe(version);
    } finally {
      t.cleanup();
    }
  });

  it('does nothing when the store already holds data', async () => {
    const t = tempDir('resemble-demo-');
    try {
      const store = openStore(t.dir);
      store.writeEntity({ code: 'OWN' }, makeRows(3));
      store.close();
      expect(await ensureDemoData(t.dir, { logger: silentLogger, progress: false })).toBeNull();
      expect(listCatalog(t.dir).map((e) => e.code)).toEqual(['OWN']);
      const after = openStore(t.dir);
      expect(after.listCompanies().map((c) => c.code)).toEqual(['OWN']);
      after.close();
    } finally {
      t.cleanup();
    }
  });
});
