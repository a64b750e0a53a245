import { resolve } from 'node:path';

/** Defaults resolve from the repo root, not the cwd: `npm run -w ml-service` runs inside ml-service/. */
export const REPO_ROOT = resolve(import.meta.dirname, '../../..');
export const DEFAULT_DATA_DIR = resolve(REPO_ROOT, 'data');
export const DEFAULT_MODELS_DIR = resolve(REPO_ROOT, 'ml-service/models');
