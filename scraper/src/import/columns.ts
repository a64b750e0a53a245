/** Column names the importer understands, after trimming, NFKC-normalising and lower-casing headers. */
const SYNONYMS: Record<ColumnKey, string[]> = {
  ticker: ['ticker', 'symbol', 'code', '銘柄コード', 'コード'],
  date: ['date', '日付'],
  open: ['open', '始値'],
  high: ['high', '高値'],
  low: ['low', '安値'],
  close: ['close', '終値'],
  volume: ['volume', '出来高'],
  name: ['name', '銘柄名'],
};

export type ColumnKey = 'ticker' | 'date' | 'open' | 'high' | 'low' | 'close' | 'volume' | 'name';
export const REQUIRED_COLUMNS = ['ticker', 'date', 'open', 'high', 'low', 'close', 'volume'] as const;
export type ColumnIndex = Record<(typeof REQUIRED_COLUMNS)[number], number> & { name: number };

const LOOKUP = new Map<string, ColumnKey>();
for (const [key, names] of Object.entries(SYNONYMS) as [ColumnKey, string[]][]) {
  for (const n of names) LOOKUP.set(n, key);
}

export function normalizeHeader(h: unknown): string {
  return String(h ?? '')
    .replace(/^\uFEFF/, '')
    .normalize('NFKC')
    .trim()
    .toLowerCase();
}

/** Maps a header row to column positions, or returns the list of required columns it lacks. */
export function mapColumns(header: readonly unknown[]): { index: ColumnIndex } | { missing: string[] } {
  const found: Partial<Record<ColumnKey, number>> = {};
  header.forEach((h, i) => {
    const key = LOOKUP.get(normalizeHeader(h));
    if (key && found[key] === undefined) found[key] = i;
  });
  const missing = REQUIRED_COLUMNS.filter((k) => found[k] === undefined);
  if (missing.length > 0) return { missing: [...missing] };
  return {
    index: { ...(found as Record<(typeof REQUIRED_COLUMNS)[number], number>), name: found.name ?? -1 },
  };
}

export function describeColumns(): string {
  return REQUIRED_COLUMNS.map((k) =>
    SYNONYMS[k].filter((n) => n !== 'symbol' && n !== 'code' && n !== 'コード').join('/'),
  ).join(', ');
}
