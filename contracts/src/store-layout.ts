/**
 * The store's names and layout without any schema library, for readers that only need to find files
 * (ml-service's loader threads import this alone, not all of the contracts with zod; store.ts re-exports
 * it). The catalog meta key data_version is a sha256 over the sorted "code<TAB>sha256<LF>" lines of
 * `entities`, so it changes whenever any entity file changes.
 */
export const STORE_SCHEMA_VERSION = 1;

/** Codes become file names, so the pattern also keeps them safe as paths (no '/', no leading '.'). */
export const ENTITY_CODE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/;
export const ENTITY_CODE_MESSAGE =
  'code must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$ (letters, digits, ".", "_", "-"; 1-32 chars)';

export const CATALOG_DATA_VERSION_KEY = 'data_version';

export const CATALOG_FILE = 'catalog.sqlite';
export const ENTITIES_DIR = 'entities';
export const RUNS_DIR = 'runs';

export function entityFileName(code: string): string {
  if (!ENTITY_CODE_PATTERN.test(code)) throw new Error(ENTITY_CODE_MESSAGE);
  return `${code}.sqlite`;
}
