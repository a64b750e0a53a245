/** Public API of the importer (`@resemble/scraper/import`). */
export { importFile, type ImportOptions, type ImportRejectReason, type ImportSummary } from './importer.js';
export { ensureDemoData, DEMO_FILE } from './demo.js';
export { ImportError, detectKind, type FileKind } from './sources.js';
export { formatSummary } from './summary.js';
