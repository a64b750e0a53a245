import { join } from 'node:path';
import { CATALOG_FILE, ENTITIES_DIR, ENTITY_CODE_PATTERN } from '@resemble/contracts';

export class StoreError extends Error {
  constructor(
    message: string,
    readonly code:
      | 'invalid_code'
      | 'invalid_meta'
      | 'invalid_adjustment'
      | 'unknown_entity'
      | 'readonly'
      | 'schema_version'
      | 'invalid_company',
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

/** Refuses anything that is not a safe entity code with a message naming the rule. */
export function assertEntityCode(code: string): void {
  if (typeof code !== 'string' || !ENTITY_CODE_PATTERN.test(code)) {
    throw new StoreError(
      `invalid entity code ${JSON.stringify(code)}: codes must match ${ENTITY_CODE_PATTERN.source} (letters, digits, ".", "_", "-"; 1-32 chars, not starting with a symbol)`,
      'invalid_code',
    );
  }
}

export function entityPath(dataDir: string, code: string): string {
  assertEntityCode(code);
  return join(dataDir, ENTITIES_DIR, `${code}.sqlite`);
}

export function catalogPath(dataDir: string): string {
  return join(dataDir, CATALOG_FILE);
}
