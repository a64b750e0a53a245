import { resolve } from 'node:path';

/** Defaults resolve from the repo root, not the cwd: `npm run -w ml-service` runs inside ml-service/. */
export const REPO_ROOT = resolve(import.meta.dirname, '../../..');
export const DEFAULT_DATA_DIR = resolve(REPO_ROOT, 'data');
export const DEFAULT_MODELS_DIR = resolve(REPO_ROOT, 'ml-service/models');

/**
 * Resolves a CLI path argument against the directory the user ran npm in (INIT_CWD), not the workspace
 * folder npm switches to, so `npm run train -w ml-service -- --out models/x.json` means what it says.
 */
export function resolveCliPath(path: string): string {
  return resolve(process.env.INIT_CWD ?? process.cwd(), path);
}
