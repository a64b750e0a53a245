/**
 * Child process for the crash tests: performs one entity write up to a given step of the publish
 * sequence and then kills itself with SIGKILL, like a power cut or OOM kill at that instant.
 * usage: tsx test/crash-child.ts <dataDir> <code> <seed> <after-stage|after-intent|after-rename>
 */
import { join } from 'node:path';
import { openStore } from '../src/store/index.js';
import { logPublishIntents, openCatalog } from '../src/store/catalog.js';
import { publishFiles } from '../src/store/entity-file.js';
import { makeRows } from './helpers.js';

const [dataDir, code, seed, step] = process.argv.slice(2);
const store = openStore(dataDir);
const { staged } = store.stageEntity({ code }, makeRows(40, Number(seed)));
if (!staged) throw new Error('nothing staged: the rows did not change anything');
if (step !== 'after-stage') {
  const catalog = openCatalog(join(dataDir, 'catalog.sqlite'));
  logPublishIntents(catalog, [{ code, sha256: staged.entry.sha256 }], new Date().toISOString());
  catalog.close();
  if (step === 'after-rename') publishFiles([staged]);
}
process.kill(process.pid, 'SIGKILL');
