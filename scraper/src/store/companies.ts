/**
 * Writes to the company master (the catalog's `companies` table). One call is one transaction: the
 * changed rows and the new data version commit together or not at all. Rows are never deleted.
 */
import type Database from 'better-sqlite3';
import {
  COMPANY_CONTENT_COLUMNS,
  companyFromRow,
  companySchema,
  minimalCompany,
  type Company,
  type CompanyRow,
} from '@resemble/contracts';
import { bumpDataVersion, insertCompanyStatement, listCompanies } from './catalog.js';
import { assertEntityCode, StoreError } from './paths.js';

/** What a source knows about one issue: code and market, and any master fields it has (others are kept). */
export type CompanyPatch = Pick<Company, 'code' | 'market'> & Partial<Omit<Company, 'code' | 'market'>>;

export interface ApplyCompaniesOptions {
  /** Recorded in `source` of every row this call changes. */
  source: string;
  /** Date the listing is as of (YYYY-MM-DD): listed_since of new rows, delisted_since of vanished ones. */
  asOf: string | null;
  /**
   * The patches are the complete listing of this market: its listed issues that are missing from them
   * are marked delisted (never deleted). Refused when the listing has fewer than `minShare` (default
   * 0.5) of the issues listed now, which guards against a truncated download delisting half a market.
   */
  complete?: { market: string; minShare?: number };
  now?: Date;
}

export interface ApplyCompaniesResult {
  added: string[];
  updated: string[];
  unchanged: number;
  delisted: string[];
  relisted: string[];
  changed: boolean;
}

function sameContent(a: CompanyRow, b: CompanyRow): boolean {
  return COMPANY_CONTENT_COLUMNS.every((c) => a[c] === b[c]);
}

const CAMEL_TO_ROW: Record<Exclude<keyof Company, 'code' | 'market'>, keyof CompanyRow> = {
  nameJa: 'name_ja',
  nameEn: 'name_en',
  kind: 'kind',
  sector33Code: 'sector33_code',
  sector33Name: 'sector33_name',
  sector17Code: 'sector17_code',
  sector17Name: 'sector17_name',
  gicsSector: 'gics_sector',
  segment: 'segment',
  sizeCode: 'size_code',
  sizeClass: 'size_class',
  status: 'status',
  listedSince: 'listed_since',
  delistedSince: 'delisted_since',
};

function merge(
  old: CompanyRow | undefined,
  p: CompanyPatch,
  o: ApplyCompaniesOptions,
  stamp: string,
): CompanyRow {
  const base: CompanyRow = old
    ? { ...old }
    : { ...minimalCompany({ code: p.code, name: p.code, market: p.market }) };
  const row = base as unknown as Record<string, unknown>;
  row.market = p.market;
  for (const [k, col] of Object.entries(CAMEL_TO_ROW)) {
    const v = (p as Record<string, unknown>)[k];
    if (v !== undefined) row[col] = v;
  }
  // Being in a listing means listed: a code that comes back is listed again.
  if (p.status === undefined) {
    base.status = 'listed';
    base.delisted_since = null;
  }
  if (base.listed_since === null && p.listedSince === undefined && o.asOf) base.listed_since = o.asOf;
  base.source = o.source;
  base.updated_at = stamp;
  return base;
}

export function applyCompanies(
  db: Database.Database,
  patches: readonly CompanyPatch[],
  o: ApplyCompaniesOptions,
): ApplyCompaniesResult {
  const stamp = (o.now ?? new Date()).toISOString();
  const res: ApplyCompaniesResult = {
    added: [],
    updated: [],
    unchanged: 0,
    delisted: [],
    relisted: [],
    changed: false,
  };
  const seen = new Set<string>();
  for (const p of patches) {
    assertEntityCode(p.code);
    if (seen.has(p.code)) throw new StoreError(`${p.code}: listed twice in one listing`, 'invalid_company');
    seen.add(p.code);
  }
  const put = insertCompanyStatement(db, 'OR REPLACE');
  db.transaction(() => {
    const current = new Map(listCompanies(db).map((c) => [c.code, c]));
    if (o.complete) {
      const { market, minShare = 0.5 } = o.complete;
      const listedNow = [...current.values()].filter(
        (c) => c.market === market && c.status === 'listed',
      ).length;
      const inListing = patches.filter((p) => p.market === market).length;
      if (listedNow > 0 && inListing < listedNow * minShare) {
        throw new StoreError(
          `the ${market} listing has ${inListing} issues, fewer than ${Math.round(minShare * 100)}% of the ${listedNow} listed now: refusing to mark the rest delisted (truncated file?)`,
          'invalid_company',
        );
      }
    }
    for (const p of patches) {
      const old = current.get(p.code);
      const row = merge(old, p, o, stamp);
      const check = companySchema.safeParse(companyFromRow(row));
      if (!check.success) {
        throw new StoreError(
          `${p.code}: invalid master record: ${check.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
          'invalid_company',
        );
      }
      if (old && sameContent(old, row)) {
        res.unchanged++;
        continue;
      }
      put.run(row);
      if (!old) res.added.push(p.code);
      else {
        res.updated.push(p.code);
        if (old.status === 'delisted' && row.status === 'listed') res.relisted.push(p.code);
      }
    }
    if (o.complete) {
      for (const c of current.values()) {
        if (c.market !== o.complete.market || c.status !== 'listed' || seen.has(c.code)) continue;
        put.run({
          ...c,
          status: 'delisted',
          delisted_since: o.asOf ?? stamp.slice(0, 10),
          source: o.source,
          updated_at: stamp,
        });
        res.delisted.push(c.code);
      }
    }
    res.changed = res.added.length + res.updated.length + res.delisted.length > 0;
    if (res.changed) bumpDataVersion(db, stamp);
  })();
  return res;
}
