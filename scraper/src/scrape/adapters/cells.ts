import type { RowInput } from '../../store/index.js';
import { NonRetryableError } from '../errors.js';
import type { ColumnMap } from '../source-config.js';

const FIELDS = ['date', 'open', 'high', 'low', 'close', 'volume'] as const;

/** Column index of every field, matching header names case- and space-insensitively. */
export function columnIndexes(
  headers: readonly string[],
  columns: ColumnMap,
  where: string,
): Record<(typeof FIELDS)[number], number> {
  const norm = (s: string) => s.normalize('NFKC').trim().toLowerCase();
  const at = headers.map(norm);
  const missing: string[] = [];
  const idx = {} as Record<(typeof FIELDS)[number], number>;
  for (const f of FIELDS) {
    idx[f] = at.indexOf(norm(columns[f]));
    if (idx[f] < 0) missing.push(`${f} ("${columns[f]}")`);
  }
  if (missing.length > 0) {
    throw new NonRetryableError(
      `layout changed: ${where} has no column ${missing.join(', ')}; headers: ${headers.join(' | ')}`,
    );
  }
  return idx;
}

/** "2017/01/04", "2017.1.4", "2017-01-04" → "2017-01-04"; anything else is returned as is (and rejected later). */
export function normalizeDate(cell: string): string {
  if (cell.length === 10 && cell[4] === '-' && cell[7] === '-') return cell;
  const m = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$/.exec(cell.trim());
  return m ? `${m[1]}-${m[2].padStart(2, '0')}-${m[3].padStart(2, '0')}` : cell.trim();
}

/** "1,234.5" → 1234.5; blanks and dashes (no trade) → NaN, which validation rejects with a reason. */
export function parseNumber(cell: string): number {
  // Fast path for plain numbers (Number('') is 0, so blanks must take the slow path).
  const n = Number(cell);
  if (!Number.isNaN(n) && cell.trim() !== '') return n;
  const s = /[,\s]/.test(cell) ? cell.replace(/[,\s]/g, '') : cell;
  if (s === '' || s === '-' || s === '—') return NaN;
  return Number(s);
}

export function toRow(cells: readonly string[], idx: Record<(typeof FIELDS)[number], number>): RowInput {
  return {
    date: normalizeDate(cells[idx.date] ?? ''),
    open: parseNumber(cells[idx.open] ?? ''),
    high: parseNumber(cells[idx.high] ?? ''),
    low: parseNumber(cells[idx.low] ?? ''),
    close: parseNumber(cells[idx.close] ?? ''),
    volume: parseNumber(cells[idx.volume] ?? ''),
  };
}

/** Keeps rows on or after `from`; rows with a malformed date are kept so validation reports them. */
export function onOrAfter(rows: RowInput[], from: string): RowInput[] {
  return rows.filter((r) => !/^\d{4}-\d{2}-\d{2}$/.test(r.date) || r.date >= from);
}
