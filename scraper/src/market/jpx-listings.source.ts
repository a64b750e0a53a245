/**
 * The `jpx-listings` source: JPX's 東証上場銘柄一覧 page is fetched, the link to the current file (data_j.xls)
 * is found on it (its address can change, so it is never hard-coded), the file is downloaded and imported
 * into the company master like `import --listings`. Monthly by default: a run within `everyDays` of the
 * last successful one does nothing.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { RUNS_DIR, runReportSchema, type RunReport } from '@resemble/contracts';
import type pino from 'pino';
import { applyListing } from '../listings/import-listings.js';
import { csvTableRows, detectTableFormat, workbookRows, type TableRow } from '../listings/listing-table.js';
import { openStore } from '../store/index.js';
import { writeFileAtomic } from '../scrape/atomic-file.js';
import type { JpxListingsSourceConfig } from '../scrape/source-config.js';
import { lastSuccessfulRun } from './run-reports.js';

/** Every <a href> of a page, resolved against the page's URL. */
export function pageLinks(html: string, pageUrl: string): string[] {
  const out: string[] = [];
  for (const m of html.matchAll(/<a\s[^>]*?href\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/gi)) {
    const href = (m[1] ?? m[2] ?? m[3] ?? '').replaceAll('&amp;', '&').trim();
    if (!href || href.startsWith('#') || href.startsWith('javascript:')) continue;
    try {
      out.push(new URL(href, pageUrl).toString());
    } catch {
      // Not a URL: not the file.
    }
  }
  return out;
}

export interface JpxListingsResult {
  report: RunReport | null;
  /** Why nothing was fetched (not due yet), when so. */
  skipped?: string;
}

export async function runJpxListings(opts: {
  dataDir: string;
  source: JpxListingsSourceConfig;
  userAgent: string;
  log: pino.Logger;
  force?: boolean;
  now?: () => Date;
}): Promise<JpxListingsResult> {
  const { source, log } = opts;
  const now = opts.now ?? (() => new Date());
  const last = lastSuccessfulRun(opts.dataDir, source.name);
  if (!opts.force && last && now().getTime() - Date.parse(last.finishedAt) < source.everyDays * 86400_000) {
    const msg = `last successful run ${last.finishedAt}; next after ${source.everyDays} days`;
    log.info({ source: source.name }, `not due: ${msg}`);
    return { report: null, skipped: msg };
  }
  const started = now();
  const id = `${started
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}-${source.name}-${randomBytes(3).toString('hex')}`;
  const failed: { code: string; reason: string }[] = [];
  const ok: string[] = [];
  const rejected: RunReport['rowsRejected'] = [];
  let added = 0;
  try {
    const get = async (url: string) => {
      const res = await fetch(url, {
        headers: { 'user-agent': opts.userAgent },
        signal: AbortSignal.timeout(60_000),
      });
      if (!res.ok) throw new Error(`HTTP ${res.status} from ${url}`);
      return res;
    };
    const pageUrl = new URL(source.pagePath, source.baseUrl).toString();
    const html = await (await get(pageUrl)).text();
    const pattern = new RegExp(source.linkPattern, 'i');
    const link = pageLinks(html, pageUrl).find((u) => pattern.test(new URL(u).pathname));
    if (!link)
      throw new Error(`no link matching /${source.linkPattern}/ on ${pageUrl} (did the page change?)`);
    const buf = Buffer.from(await (await get(link)).arrayBuffer());
    const rows: TableRow[] =
      detectTableFormat(buf) === 'csv' ? csvTableRows(buf, link) : workbookRows(buf, link);
    const store = openStore(opts.dataDir);
    try {
      const a = applyListing(store, rows, { source: source.name, now: now() });
      added = a.result.added.length;
      ok.push(...a.result.added, ...a.result.updated);
      for (const b of a.bad) rejected.push({ code: '-', reason: `line ${b.line}: ${b.reason}` });
      log.info(
        {
          link,
          asOf: a.asOf,
          accepted: a.accepted,
          bad: a.bad.length,
          added,
          updated: a.result.updated.length,
          delisted: a.result.delisted.length,
        },
        'listing imported',
      );
    } finally {
      store.close();
    }
  } catch (err) {
    failed.push({ code: '*', reason: (err as Error).message });
    log.error({ source: source.name, reason: (err as Error).message }, 'listing fetch failed');
  }
  const finished = now();
  const report = runReportSchema.parse({
    id,
    source: source.name,
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationMs: finished.getTime() - started.getTime(),
    ok,
    failed,
    skipped: [],
    rowsAdded: added,
    rowsRejected: rejected,
    success: failed.length === 0,
    market: 'JP',
  });
  writeFileAtomic(join(opts.dataDir, RUNS_DIR, `${id}.json`), `${JSON.stringify(report, null, 2)}\n`);
  return { report };
}
