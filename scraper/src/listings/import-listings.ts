/**
 * `npm run import -- --listings FILE`: a listing file into the company master (names, sectors, segments,
 * listing status), without touching any price file. A JPX listing is complete for market JP, so JP issues
 * missing from it are marked delisted (never deleted).
 */
import { basename } from 'node:path';
import type pino from 'pino';
import { openStore, type ApplyCompaniesResult, type Store } from '../store/index.js';
import { readListingTable, type TableFormat, type TableRow } from './listing-table.js';
import { parseListing, type BadRow, type ListingLayout } from './parse-listing.js';

export interface ListingImportSummary {
  file: string;
  format: TableFormat;
  layout: ListingLayout;
  asOf: string | null;
  rows: number;
  accepted: number;
  bad: BadRow[];
  added: number;
  updated: number;
  unchanged: number;
  delisted: number;
  relisted: number;
  dataVersionBefore: string;
  dataVersionAfter: string;
  durationMs: number;
}

export interface ListingImportOptions {
  dataDir: string;
  /** Market of a companies CSV (default US); a JPX listing is always JP. */
  market?: string;
  /** Name recorded as the rows' source (default: the layout, 'jpx-listings' or 'companies-csv'). */
  source?: string;
  logger: pino.Logger;
  now?: Date;
}

/** Applies parsed rows to an open store (shared with the jpx-listings scrape source). */
export function applyListing(
  store: Store,
  rows: readonly TableRow[],
  opts: { market?: string; source?: string; now?: Date },
): {
  layout: ListingLayout;
  asOf: string | null;
  rows: number;
  bad: BadRow[];
  accepted: number;
  result: ApplyCompaniesResult;
} {
  const parsed = parseListing(rows, { market: opts.market });
  const result = store.applyCompanies(parsed.patches, {
    source: opts.source ?? (parsed.layout === 'jpx' ? 'jpx-listings' : 'companies-csv'),
    asOf: parsed.asOf,
    complete: parsed.layout === 'jpx' ? { market: 'JP' } : undefined,
    now: opts.now,
  });
  return {
    layout: parsed.layout,
    asOf: parsed.asOf,
    rows: parsed.rows,
    bad: parsed.bad,
    accepted: parsed.patches.length,
    result,
  };
}

export async function importListings(
  path: string,
  opts: ListingImportOptions,
): Promise<ListingImportSummary> {
  const started = performance.now();
  const { format, rows } = await readListingTable(path);
  const store = openStore(opts.dataDir);
  try {
    const dataVersionBefore = store.dataVersion();
    const a = applyListing(store, rows, opts);
    const summary: ListingImportSummary = {
      file: basename(path),
      format,
      layout: a.layout,
      asOf: a.asOf,
      rows: a.rows,
      accepted: a.accepted,
      bad: a.bad,
      added: a.result.added.length,
      updated: a.result.updated.length,
      unchanged: a.result.unchanged,
      delisted: a.result.delisted.length,
      relisted: a.result.relisted.length,
      dataVersionBefore,
      dataVersionAfter: store.dataVersion(),
      durationMs: Math.round(performance.now() - started),
    };
    opts.logger.info({ ...summary, bad: summary.bad.length }, 'listing imported');
    return summary;
  } finally {
    store.close();
  }
}

export function formatListingSummary(s: ListingImportSummary): string {
  const lines = [
    `imported listing ${s.file} (${s.layout}, ${s.format}${s.asOf ? `, as of ${s.asOf}` : ''}) in ${(s.durationMs / 1000).toFixed(2)} s`,
    `  rows:       ${s.rows} (${s.accepted} accepted, ${s.bad.length} refused)`,
    `  companies:  ${s.added} added, ${s.updated} updated, ${s.unchanged} unchanged, ${s.delisted} delisted, ${s.relisted} listed again`,
  ];
  if (s.bad.length > 0) {
    lines.push('  refused rows:');
    for (const b of s.bad.slice(0, 20)) lines.push(`    line ${b.line}: ${b.reason}`);
    if (s.bad.length > 20) lines.push(`    … and ${s.bad.length - 20} more`);
  }
  lines.push(
    s.dataVersionAfter === s.dataVersionBefore
      ? `  data version: ${s.dataVersionAfter.slice(0, 16)} (unchanged)`
      : `  data version: ${s.dataVersionBefore.slice(0, 16)} -> ${s.dataVersionAfter.slice(0, 16)}`,
  );
  return lines.join('\n');
}
