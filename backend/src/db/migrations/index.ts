/**
 * Every migration, in order, by name; the names are what kysely_migration records, so never rename one.
 * Add a migration as a new file and a new entry here; never edit one that has shipped.
 */
import type { Migration } from 'kysely';
import * as initial from './0001-initial.js';
import * as userIndexes from './0002-user-indexes.js';
import * as recentSearchesAndOutbox from './0003-recent-searches-and-outbox.js';
import * as receipts from './0004-receipts.js';
import * as idempotencyKeys from './0005-idempotency-keys.js';
import * as tokenUsage from './0006-token-usage.js';

export const MIGRATIONS: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-user-indexes': userIndexes,
  '0003-recent-searches-and-outbox': recentSearchesAndOutbox,
  '0004-receipts': receipts,
  '0005-idempotency-keys': idempotencyKeys,
  '0006-token-usage': tokenUsage,
};

/** The names of the migrations that PRAGMA user_version N stood for before Kysely kept the list. */
export const BEFORE_KYSELY: readonly string[] = ['0001-initial'];
