import { resolve } from 'node:path';
import { z } from 'zod';

/** Defaults resolve against the repo root, because `npm run -w scraper` runs with cwd = scraper/. */
export const REPO_ROOT = resolve(import.meta.dirname, '../..');

/** An unset variable and an empty one (compose passes `${KEY:-}` as "") both mean "not set". */
const optional = <T extends z.ZodType>(t: T) => z.preprocess((v) => (v === '' ? undefined : v), t.optional());

const envSchema = z.object({
  DATA_DIR: z.string().min(1).default(resolve(REPO_ROOT, 'data')),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** J-Quants API V2 key: with it, the scrape without --source keeps every TSE issue current. */
  JQUANTS_API_KEY: optional(z.string().trim().min(1)),
  /** J-Quants plan, for its request rate (free 5, light 60, standard 120, premium 500 a minute). */
  JQUANTS_PLAN: z.enum(['free', 'light', 'standard', 'premium']).default('light'),
  /** Overrides the J-Quants base URL of the sources file (stand-ins, proxies). */
  JQUANTS_BASE_URL: optional(z.url()),
  /** Overrides the jpx-listings page address of the sources file (stand-ins, a mirror). */
  JPX_LISTINGS_URL: optional(z.url()),
  /** Polygon.io (Massive) key: with it, the scrape without --source keeps the US market current. */
  POLYGON_API_KEY: optional(z.string().trim().min(1)),
  POLYGON_BASE_URL: optional(z.url()),
  /** Requests a minute the Polygon plan allows (free: 5). */
  POLYGON_REQUESTS_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(5),
  /** Calendar days fetched when a live source finds nothing of its market in the store yet. */
  SCRAPE_INITIAL_DAYS: z.coerce.number().int().min(1).max(20_000).default(365),
});
export type ScraperConfig = z.infer<typeof envSchema>;

/** Parses the environment once; throws one error listing every bad key. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ScraperConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const keys = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid scraper environment: ${keys}`);
  }
  // A relative DATA_DIR means relative to where the command was typed: npm's INIT_CWD, because
  // `npm run -w scraper` itself runs in scraper/.
  return { ...parsed.data, DATA_DIR: resolve(env.INIT_CWD ?? process.cwd(), parsed.data.DATA_DIR) };
}
