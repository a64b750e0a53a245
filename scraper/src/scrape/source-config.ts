import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { REPO_ROOT } from '../config.js';

/** Site specifics live in sources.config.json, so a new site or a redesign is a config change. */
export const DEFAULT_SOURCES_FILE = resolve(REPO_ROOT, 'scraper/sources.config.json');

const columnsSchema = z.object({
  date: z.string().min(1),
  open: z.string().min(1),
  high: z.string().min(1),
  low: z.string().min(1),
  close: z.string().min(1),
  volume: z.string().min(1),
});
export type ColumnMap = z.infer<typeof columnsSchema>;

export const limitsSchema = z.object({
  /** Entities processed at once (and, for html-table, browser tabs). */
  concurrency: z.number().int().min(1).max(64).default(4),
  /** Requests in flight per host; 0 = unlimited. */
  perHostConcurrency: z.number().int().min(0).default(4),
  /** Minimum gap between requests to one host; robots.txt Crawl-delay raises it. */
  minTimeMs: z.number().int().min(0).default(250),
  timeoutMs: z.number().int().min(100).default(15_000),
  retries: z.number().int().min(0).max(10).default(4),
  backoffBaseMs: z.number().int().min(0).default(500),
  backoffMaxMs: z.number().int().min(0).default(30_000),
});
export type Limits = z.infer<typeof limitsSchema>;

const common = {
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'source names are lower-case words joined by "-"'),
  baseUrl: z.url(),
  market: z.string().min(1),
  currency: z.string().min(1),
  columns: columnsSchema,
  limits: limitsSchema.prefault({}),
  /** Calendar days re-fetched before the last stored date, to catch revisions and splits. */
  overlapDays: z.number().int().min(0).max(366).default(7),
  /** First date fetched for a stock the store does not have yet. */
  startDate: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/)
    .default('1990-01-01'),
  respectRobots: z.boolean().default(true),
};

export const csvSourceSchema = z.object({
  ...common,
  kind: z.literal('csv-http'),
  /** Path template with {code} and optionally {from} (YYYY-MM-DD); rows before {from} are dropped anyway. */
  url: z.string().includes('{code}'),
  delimiter: z.string().length(1).default(','),
});

export const htmlSourceSchema = z.object({
  ...common,
  kind: z.literal('html-table'),
  /** Per-stock page listing the years that have a price page. */
  indexUrl: z.string().includes('{code}'),
  yearLinkSelector: z.string().min(1),
  /** Per-stock, per-year page holding the daily price table. */
  pageUrl: z.string().includes('{code}').includes('{year}'),
  tableSelector: z.string().min(1),
  /** Present only on a complete page: its absence means the page was cut off. */
  completeSelector: z.string().min(1),
});

/** J-Quants API V2 (the TSE), a market-day source; the key comes from the environment, never this file. */
export const jquantsSourceSchema = z.object({
  name: common.name,
  kind: z.literal('jquants'),
  baseUrl: z.url().default('https://api.jquants.com'),
  /** Requests a minute by plan (the provider's published limits; adjust if the plan changes). */
  planRates: z
    .object({
      free: z.number().int().min(1),
      light: z.number().int().min(1),
      standard: z.number().int().min(1),
      premium: z.number().int().min(1),
    })
    .default({ free: 5, light: 60, standard: 120, premium: 500 }),
});

/** The US bulk end-of-day source (Polygon.io / Massive grouped daily bars), a market-day source. */
export const polygonSourceSchema = z.object({
  name: common.name,
  kind: z.literal('polygon'),
  baseUrl: z.url().default('https://api.polygon.io'),
});

/** JPX's monthly 東証上場銘柄一覧: the page is read for the current file's link, then the file imported. */
export const jpxListingsSourceSchema = z.object({
  name: common.name,
  kind: z.literal('jpx-listings'),
  baseUrl: z.url().default('https://www.jpx.co.jp'),
  pagePath: z.string().startsWith('/').default('/markets/statistics-equities/misc/01.html'),
  /** The link to take: the first <a href> whose target matches this (data_j.xls, or .xlsx should JPX move). */
  linkPattern: z.string().default('data_j\\.xlsx?$'),
  /** Days between fetches (JPX publishes monthly); a run before then does nothing. */
  everyDays: z.number().int().min(0).default(28),
});

export const sourceSchema = z.discriminatedUnion('kind', [csvSourceSchema, htmlSourceSchema]);
export type SourceConfig = z.infer<typeof sourceSchema>;
export const anySourceSchema = z.discriminatedUnion('kind', [
  csvSourceSchema,
  htmlSourceSchema,
  jquantsSourceSchema,
  polygonSourceSchema,
  jpxListingsSourceSchema,
]);
export type AnySourceConfig = z.infer<typeof anySourceSchema>;
export type JquantsSourceConfig = z.infer<typeof jquantsSourceSchema>;
export type PolygonSourceConfig = z.infer<typeof polygonSourceSchema>;
export type JpxListingsSourceConfig = z.infer<typeof jpxListingsSourceSchema>;
export type CsvSourceConfig = z.infer<typeof csvSourceSchema>;
export type HtmlSourceConfig = z.infer<typeof htmlSourceSchema>;

export const sourcesFileSchema = z
  .object({
    defaultSource: z.string(),
    userAgent: z.string().min(1),
    sources: z.array(anySourceSchema).min(1),
  })
  .refine((f) => f.sources.some((s) => s.name === f.defaultSource), {
    message: 'defaultSource names no source',
  })
  .refine((f) => new Set(f.sources.map((s) => s.name)).size === f.sources.length, {
    message: 'duplicate source names',
  });
export type SourcesFile = z.infer<typeof sourcesFileSchema>;

/** Reads and validates the sources file; the error lists every bad key. */
export function loadSources(file = DEFAULT_SOURCES_FILE): SourcesFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read sources file ${file}: ${(err as Error).message}`);
  }
  const parsed = sourcesFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`invalid sources file ${file}: ${issues}`);
  }
  return parsed.data;
}

export function pickSource(file: SourcesFile, name?: string): AnySourceConfig {
  const wanted = name ?? file.defaultSource;
  const source = file.sources.find((s) => s.name === wanted);
  if (!source)
    throw new Error(`unknown source "${wanted}"; configured: ${file.sources.map((s) => s.name).join(', ')}`);
  return source;
}

/** Fills {code}, {year}, {from} in a path template and resolves it against the source's base URL. */
export function sourceUrl(baseUrl: string, template: string, vars: Record<string, string>): string {
  const path = template.replace(/\{(\w+)\}/g, (_, key: string) => encodeURIComponent(vars[key] ?? ''));
  return new URL(path, baseUrl).toString();
}
