/** The service's environment, parsed once at start-up; every bad key is reported together. */
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';

const repoRoot = resolve(import.meta.dirname, '../..');

const envSchema = z.object({
  ML_HOST: z.string().min(1).default('127.0.0.1'),
  ML_PORT: z.coerce.number().int().min(0).max(65535).default(8001),
  /** When set, every request needs `Authorization: Bearer <ML_TOKEN>` (backend is the only client). */
  ML_TOKEN: z.string().min(1).optional(),
  DATA_DIR: z.string().min(1).default(resolve(repoRoot, 'data')),
  MODELS_DIR: z.string().min(1).default(resolve(repoRoot, 'ml-service/models')),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** How often the catalog's data_version is checked for a reload (0 = never; SIGHUP still works). */
  ML_RELOAD_INTERVAL_MS: z.coerce.number().int().min(0).default(30_000),
  /**
   * Where the binary snapshot of the loaded market is kept for fast restarts (derived data, safe to
   * delete); "off" disables it.
   */
  ML_CACHE_DIR: z.string().min(1).default(resolve(tmpdir(), 'resemble-ml-cache')),
  /** A search running longer is stopped and answered 504 (0 = no limit; only with search workers). */
  ML_SEARCH_TIMEOUT_MS: z.coerce.number().int().min(0).default(60_000),
  /** Search worker threads (0 = search on the main thread). */
  ML_SEARCH_WORKERS: z.coerce.number().int().min(0).max(64).default(2),
  /**
   * Searches whose cost (candidate windows x L x cells per row: 1 for zned, 2 band + 1 for DTW) reaches
   * this go to the heavy lane (decision 122).
   */
  ML_HEAVY_COST: z.coerce.number().positive().default(5e9),
  /**
   * Threads of the heavy lane's own, 9 nice steps below the ordinary workers; a heavy search is split
   * over all of them (default: one per core). 0: the heavy lane borrows ordinary workers instead.
   */
  ML_HEAVY_THREADS: z.coerce.number().int().min(0).max(64).optional(),
  /** With ML_HEAVY_THREADS=0: ordinary workers the heavy lane may hold at once (default: all but one). */
  ML_HEAVY_WORKERS: z.coerce.number().int().min(1).max(64).optional(),
  /** Search kernel: auto (native where it loads, else WASM), native (refuse to start without it), wasm. */
  ML_KERNEL: z.enum(['auto', 'native', 'wasm']).default('auto'),
  /** Memory for answers of repeated /v1/similar requests on the same data, in MiB (0 = no cache). */
  ML_RESULT_CACHE_MB: z.coerce.number().min(0).max(4096).default(32),
});

export type Config = z.infer<typeof envSchema>;

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid environment:\n${lines.join('\n')}`);
  }
  const c = parsed.data;
  return {
    ...c,
    DATA_DIR: resolve(c.DATA_DIR),
    MODELS_DIR: resolve(c.MODELS_DIR),
    ML_CACHE_DIR: c.ML_CACHE_DIR === 'off' ? 'off' : resolve(c.ML_CACHE_DIR),
  };
}
