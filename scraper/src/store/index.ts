/** Public API of the per-stock store (`@resemble/scraper/store`). Layout and DDL: contracts/src/store.ts. */
export {
  Store,
  openStore,
  upsertEntityRows,
  type ReconcileResult,
  type WriteMeta,
  type WriteOptions,
  type WriteResult,
} from './store.js';
export { WriteBatch } from './write-batch.js';
export {
  applyCompanies,
  type ApplyCompaniesOptions,
  type ApplyCompaniesResult,
  type CompanyPatch,
} from './companies.js';
export { migrateCatalogFile, type MigrationResult, type MigrationStep } from './migrate.js';
export { StoreError, assertEntityCode, catalogPath, entityPath } from './paths.js';
export { dataVersion, listCatalog, readEntity } from './read.js';
export { computeAdjusted, rebuildAdjusted, type Adjustment } from './adjust.js';
export { EMPTY_DATA_VERSION } from './catalog.js';
export { WriterLockedError, WRITER_LOCK_FILE } from './writer-lock.js';
export {
  checkRow,
  isIsoDate,
  latestAllowedDate,
  validateRows,
  type RejectReason,
  type RejectedRow,
  type RowInput,
} from './validate.js';
