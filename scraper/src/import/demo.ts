import { resolve } from 'node:path';
import type pino from 'pino';
import { listCatalog } from '../store/index.js';
import { importFile, type ImportSummary } from './importer.js';

/** The bundled demo data (505 S&P 500 stocks, 2013-2018); see its SOURCE.md. */
export const DEMO_FILE = resolve(import.meta.dirname, '../../demo/sandp500-5yr/prices.csv.gz');

/**
 * Imports the demo data when DATA_DIR has no entities yet, so a first `npm start` has something to
 * search. Returns null when the store already holds data.
 */
export async function ensureDemoData(
  dataDir: string,
  opts: { logger: pino.Logger; progress?: boolean; tty?: boolean },
): Promise<ImportSummary | null> {
  if (listCatalog(dataDir).length > 0) return null;
  opts.logger.info({ dataDir, file: DEMO_FILE }, 'store is empty: importing the demo data');
  return importFile(DEMO_FILE, { dataDir, market: 'US', currency: 'USD', ...opts });
}
