import { resolve } from 'node:path';
import type pino from 'pino';
import { listCatalog, openStore } from '../store/index.js';
import { importListings } from '../listings/import-listings.js';
import { importFile, type ImportSummary } from './importer.js';

/** The bundled demo data (505 S&P 500 stocks, 2013-2018); see its SOURCE.md. */
export const DEMO_FILE = resolve(import.meta.dirname, '../../demo/sandp500-5yr/prices.csv.gz');
/** 24 Japan-related US listings (ADRs of Toyota, Sony … and Japan funds), 2005-2017; see its SOURCE.md. */
export const DEMO_JP_FILE = resolve(import.meta.dirname, '../../demo/huge-jp-proxies/prices.csv.gz');
/** Names and sectors of both (companies CSVs; the Japanese names are in the JP proxies' list). */
export const DEMO_COMPANIES = [
  resolve(import.meta.dirname, '../../demo/sandp500-5yr/companies.csv'),
  resolve(import.meta.dirname, '../../demo/huge-jp-proxies/companies.csv'),
];

/**
 * Imports the demo data when DATA_DIR has no entities yet, so a first `npm start` has something to
 * search, with names and sectors (トヨタ finds TM). A demo store imported before the company master gets
 * the demo's names too; a store of other data is left alone. Returns the S&P import's summary, or null when the
 * store already held data.
 */
export async function ensureDemoData(
  dataDir: string,
  opts: { logger: pino.Logger; progress?: boolean; tty?: boolean },
): Promise<ImportSummary | null> {
  const empty = listCatalog(dataDir).length === 0;
  let summary: ImportSummary | null = null;
  if (empty) {
    opts.logger.info({ dataDir, file: DEMO_FILE }, 'store is empty: importing the demo data');
    summary = await importFile(DEMO_FILE, { dataDir, market: 'US', currency: 'USD', ...opts });
    await importFile(DEMO_JP_FILE, { dataDir, market: 'US', currency: 'USD', ...opts });
  }
  // A demo store from before the master: the demo's AAPL (from 2013-02-08) and no names at all.
  const store = openStore(dataDir);
  const oldDemo =
    store.getCatalogEntry('AAPL')?.first_date === '2013-02-08' &&
    store.listCompanies().every((c) => c.name_en === null && c.name_ja === null);
  store.close();
  if (empty || oldDemo) {
    for (const file of DEMO_COMPANIES)
      await importListings(file, { dataDir, market: 'US', logger: opts.logger });
  }
  return summary;
}
