/**
 * Child process for the migration crash tests: migrates DATA_DIR's catalog up to a given step and then
 * kills itself with SIGKILL (a power cut at that instant).
 * usage: tsx test/migrate-crash-child.ts <dataDir> <after-copy|after-migrate|after-rename>
 */
import { join } from 'node:path';
import { migrateCatalogFile, type MigrationStep } from '../src/store/migrate.js';

const [dataDir, step] = process.argv.slice(2) as [string, MigrationStep];
migrateCatalogFile(join(dataDir, 'catalog.sqlite'), {
  onStep: (s) => {
    if (s === step) process.kill(process.pid, 'SIGKILL');
  },
});
throw new Error(`step ${step} was never reached`);
