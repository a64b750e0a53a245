import { resolve } from 'node:path';
import { z } from 'zod';

/** Defaults resolve against the repo root, because `npm run -w scraper` runs with cwd = scraper/. */
export const REPO_ROOT = resolve(import.meta.dirname, '../..');

const envSchema = z.object({
  DATA_DIR: z.string().min(1).default(resolve(REPO_ROOT, 'data')),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
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
