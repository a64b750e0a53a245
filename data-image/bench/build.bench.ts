/**
 * npm run bench -w data-image [-- --entities 500 --rows 1260 | --demo]
 * Builds a data image from a synthetic store the size of the S&P 500 demo (500 stocks × 5 years), or with
 * --demo from the real demo data imported by the scraper's importer (scraper/demo), and prints timings: contract check + build, a rebuild of the same input, a rebuild after one entity changed,
 * and how many layers (bytes) the daily push would actually upload. Figures only; nothing is asserted.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildDataImage, type BuildResult } from '../src/build.js';
import { checkStore } from '../src/store-check.js';
import { appendDay, codesFor, makeStore } from '../test/support/store-fixture.js';

const repo = resolve(import.meta.dirname, '../..');

function importWithScraper(file: string, dataDir: string): void {
  const r = spawnSync(
    resolve(repo, 'node_modules/.bin/tsx'),
    [resolve(repo, 'scraper/src/import.cli.ts'), file, '--data', dataDir],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, LOG_LEVEL: 'warn' },
    },
  );
  if (r.status !== 0) throw new Error(`import of ${file} failed (exit ${r.status})`);
}

const { values } = parseArgs({
  options: {
    entities: { type: 'string', default: '500' },
    rows: { type: 'string', default: '1260' },
    demo: { type: 'boolean', default: false },
  },
});
const entities = Number(values.entities);
const rows = Number(values.rows);

async function timed<T>(label: string, fn: () => Promise<T> | T): Promise<T> {
  const t = performance.now();
  const result = await fn();
  console.log(`${label.padEnd(44)} ${((performance.now() - t) / 1000).toFixed(2).padStart(7)} s`);
  return result;
}

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
const root = mkdtempSync(join(tmpdir(), 'data-image-bench-'));
try {
  const data = join(root, 'data');
  let changeOne: () => void;
  if (values.demo) {
    const demo = resolve(repo, 'scraper/demo/sandp500-5yr/prices.csv.gz');
    console.log(
      'data-image bench: the S&P 500 demo (scraper/demo) imported by the scraper; shared 2-core machine, noisy',
    );
    await timed('import demo with the scraper importer', () => importWithScraper(demo, data));
    const csv = join(root, 'one-day.csv');
    writeFileSync(
      csv,
      'ticker,date,open,high,low,close,volume\nAAPL,2018-02-08,160.29,161,155.03,155.15,54390516\n',
    );
    changeOne = () => importWithScraper(csv, data);
  } else {
    const codes = codesFor(entities);
    console.log(
      `data-image bench: ${entities} entities × ${rows} rows (synthetic, seeded); shared 2-core machine, noisy`,
    );
    await timed('write synthetic store', () => makeStore(data, codes, rows));
    changeOne = () => appendDay(data, codes[0]);
  }
  await timed('contract check only (integrity, sha256, schema)', () => checkStore(data));
  const first = await timed('build (check + layers + layout + archive)', () =>
    buildDataImage({ dataDir: data, out: join(root, 'a', 'img.tar') }),
  );
  const again = await timed('rebuild, same input', () =>
    buildDataImage({ dataDir: data, out: join(root, 'b', 'img.tar') }),
  );
  changeOne();
  const next: BuildResult = await timed('rebuild after one entity gained a day', () =>
    buildDataImage({ dataDir: data, out: join(root, 'c', 'img.tar') }),
  );
  const total = first.layers.reduce((s, l) => s + l.size, 0);
  const known = new Set(first.layers.map((l) => l.digest));
  const fresh = next.layers.filter((l) => !known.has(l.digest));
  console.log(
    `image: ${first.layers.length} layers, ${mb(total)} uncompressed; same digest on rebuild: ${again.manifestDigest === first.manifestDigest}`,
  );
  console.log(
    `daily push after one change: ${fresh.length} new layers, ${mb(fresh.reduce((s, l) => s + l.size, 0))} of ${mb(total)}`,
  );
} finally {
  rmSync(root, { recursive: true, force: true });
}
