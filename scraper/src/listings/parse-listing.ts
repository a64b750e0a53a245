/**
 * Listing tables → company master patches. Two layouts:
 * - JPX's 東証上場銘柄一覧 (data_j.xls and the same table as CSV): 日付, コード, 銘柄名, 市場・商品区分,
 *   33業種コード, 33業種区分, 17業種コード, 17業種区分, 規模コード, 規模区分; pre-2022 segments (市場第一部 …)
 *   and current ones (プライム（内国株式） …); '-' marks "none" in the sector and size columns.
 * - A companies CSV `ticker,name,sector[,name_ja]` (the demo lists; extra columns are ignored), whose
 *   sector is a GICS sector, or ETF / Fund / REIT for those kinds.
 * A row that cannot be read is reported with its line and reason; the others are kept.
 */
import type { EntityKind } from '@resemble/contracts';
import { ImportError } from '../import/sources.js';
import type { CompanyPatch } from '../store/index.js';
import type { TableRow } from './listing-table.js';

export type ListingLayout = 'jpx' | 'companies';

export interface BadRow {
  line: number;
  reason: string;
}

export interface ParsedListing {
  layout: ListingLayout;
  /** The listing's date (JPX: the 日付 column; companies CSV: null). */
  asOf: string | null;
  patches: CompanyPatch[];
  bad: BadRow[];
  /** Data rows read (header excluded). */
  rows: number;
}

/**
 * A TSE code: four characters, digits and (since 2024) upper-case letters, starting with a digit; five
 * for preferred shares (e.g. 25935, 伊藤園 第1種優先株式).
 */
export const TSE_CODE = /^[0-9][0-9A-Z]{3}[0-9A-Z]?$/;

function text(v: unknown): string {
  if (v === null || v === undefined) return '';
  return String(v).trim();
}

/** '-' and '' are "none"; full-width text stays as JPX wrote it (search normalises). */
function opt(v: unknown): string | null {
  const s = text(v);
  return s === '' || s === '-' || s === '－' ? null : s;
}

/** JPX codes arrive as numbers (1301) or text ('285A', full-width in hand-made CSVs). */
export function tseCode(v: unknown): string | null {
  const s = text(v).normalize('NFKC').toUpperCase();
  return TSE_CODE.test(s) ? s : null;
}

/** 20190930, '20190930', '2019/09/30' or '2019-09-30' → '2019-09-30'; null when it is no real date. */
export function listingDate(v: unknown): string | null {
  const s = text(v).normalize('NFKC');
  const m = /^(\d{4})[-/]?(\d{1,2})[-/]?(\d{1,2})$/.exec(s);
  if (!m) return null;
  const iso = `${m[1]}-${m[2]!.padStart(2, '0')}-${m[3]!.padStart(2, '0')}`;
  const d = new Date(`${iso}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === iso ? iso : null;
}

/**
 * Kind from JPX's 市場・商品区分. The REIT bucket also holds venture, country and infrastructure funds,
 * which only their names tell apart: REITs are 投資法人 (日本ビルファンド投資法人 too), infrastructure funds
 * are 投資法人 with インフラ in the name, and the rest of the bucket are funds.
 */
export function jpxKind(segment: string, name: string): EntityKind {
  if (segment.startsWith('ETF')) return 'etf';
  if (segment.startsWith('REIT'))
    return name.includes('投資法人') && !name.includes('インフラ') ? 'reit' : 'fund';
  return 'stock';
}

const JPX_HEADERS = {
  date: '日付',
  code: 'コード',
  name: '銘柄名',
  segment: '市場・商品区分',
  s33Code: '33業種コード',
  s33Name: '33業種区分',
  s17Code: '17業種コード',
  s17Name: '17業種区分',
  sizeCode: '規模コード',
  sizeClass: '規模区分',
} as const;

function headerIndex(header: unknown[]): Map<string, number> {
  const m = new Map<string, number>();
  header.forEach((h, i) => {
    const k = text(h).normalize('NFKC').toLowerCase();
    if (k !== '' && !m.has(k)) m.set(k, i);
  });
  return m;
}

export function parseListing(rows: readonly TableRow[], opts: { market?: string } = {}): ParsedListing {
  const [header, ...data] = rows;
  if (!header) throw new ImportError('the listing has no header row');
  const idx = headerIndex(header.cells);
  const col = (name: string) => idx.get(name.normalize('NFKC').toLowerCase());
  if (
    col(JPX_HEADERS.code) !== undefined &&
    col(JPX_HEADERS.name) !== undefined &&
    col(JPX_HEADERS.segment) !== undefined
  ) {
    return parseJpx(data, col);
  }
  if (col('ticker') !== undefined && col('name') !== undefined)
    return parseCompanies(data, col, opts.market ?? 'US');
  throw new ImportError(
    `unknown listing layout (header: ${header.cells.map(text).join(', ')}); expected JPX's 東証上場銘柄一覧 (${Object.values(JPX_HEADERS).join(', ')}) or a companies CSV (ticker,name,sector[,name_ja])`,
  );
}

type Col = (name: string) => number | undefined;

function parseJpx(data: readonly TableRow[], col: Col): ParsedListing {
  const c = Object.fromEntries(Object.entries(JPX_HEADERS).map(([k, h]) => [k, col(h)])) as Record<
    keyof typeof JPX_HEADERS,
    number | undefined
  >;
  const at = (r: TableRow, i: number | undefined) => (i === undefined ? null : r.cells[i]);
  const patches: CompanyPatch[] = [];
  const bad: BadRow[] = [];
  const firstLine = new Map<string, number>();
  let asOf: string | null = null;
  for (const r of data) {
    const code = tseCode(at(r, c.code));
    if (!code) {
      bad.push({
        line: r.line,
        reason: `code ${JSON.stringify(text(at(r, c.code)))} is not a TSE code (four characters such as 7203 or 285A, five for preferred shares)`,
      });
      continue;
    }
    const name = opt(at(r, c.name));
    if (!name) {
      bad.push({ line: r.line, reason: `${code}: no name (銘柄名)` });
      continue;
    }
    const segment = opt(at(r, c.segment));
    if (!segment) {
      bad.push({ line: r.line, reason: `${code}: no market segment (市場・商品区分)` });
      continue;
    }
    if (c.date !== undefined) {
      const d = listingDate(at(r, c.date));
      if (!d) {
        bad.push({
          line: r.line,
          reason: `${code}: date ${JSON.stringify(text(at(r, c.date)))} is not a date (日付, e.g. 20240930)`,
        });
        continue;
      }
      if (!asOf || d > asOf) asOf = d;
    }
    const seen = firstLine.get(code);
    if (seen !== undefined) {
      bad.push({ line: r.line, reason: `${code}: listed twice (first on line ${seen})` });
      continue;
    }
    firstLine.set(code, r.line);
    const s33 = opt(at(r, c.s33Code));
    patches.push({
      code,
      market: 'JP',
      nameJa: name,
      kind: jpxKind(segment, name),
      // 33業種 codes are four digits ('0050'); the xls stores them as numbers (50).
      sector33Code: s33 && /^\d+$/.test(s33) ? s33.padStart(4, '0') : s33,
      sector33Name: opt(at(r, c.s33Name)),
      sector17Code: opt(at(r, c.s17Code)),
      sector17Name: opt(at(r, c.s17Name)),
      segment,
      sizeCode: opt(at(r, c.sizeCode)),
      sizeClass: opt(at(r, c.sizeClass)),
    });
  }
  return { layout: 'jpx', asOf, patches, bad, rows: data.length };
}

const KIND_SECTORS: Record<string, EntityKind> = { etf: 'etf', etn: 'etf', fund: 'fund', reit: 'reit' };

function parseCompanies(data: readonly TableRow[], col: Col, market: string): ParsedListing {
  const [ti, ni, si, ji] = [col('ticker'), col('name'), col('sector'), col('name_ja')];
  const patches: CompanyPatch[] = [];
  const bad: BadRow[] = [];
  const firstLine = new Map<string, number>();
  const code = /^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/;
  for (const r of data) {
    const ticker = text(ti === undefined ? null : r.cells[ti]).toUpperCase();
    if (!code.test(ticker)) {
      bad.push({
        line: r.line,
        reason: `ticker ${JSON.stringify(ticker)} is not a valid code (letters, digits, '.', '_', '-')`,
      });
      continue;
    }
    const nameEn = opt(ni === undefined ? null : r.cells[ni]);
    const nameJa = ji === undefined ? null : opt(r.cells[ji]);
    if (!nameEn && !nameJa) {
      bad.push({ line: r.line, reason: `${ticker}: no name` });
      continue;
    }
    const seen = firstLine.get(ticker);
    if (seen !== undefined) {
      bad.push({ line: r.line, reason: `${ticker}: listed twice (first on line ${seen})` });
      continue;
    }
    firstLine.set(ticker, r.line);
    const sector = si === undefined ? null : opt(r.cells[si]);
    const kind = sector ? KIND_SECTORS[sector.toLowerCase()] : undefined;
    patches.push({
      code: ticker,
      market,
      nameEn,
      ...(ji === undefined ? {} : { nameJa }),
      kind: kind ?? 'stock',
      gicsSector: kind ? null : sector,
    });
  }
  return { layout: 'companies', asOf: null, patches, bad, rows: data.length };
}
