/**
 * `npm run bench -w scraper`: the import benchmark, then the scrape benchmark, each in its own process
 * so one's heap and open files do not colour the other's figures. Extra arguments go to the scrape bench.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

const benches = ['import.bench.ts', 'scrape.bench.ts', 'listings.bench.ts', 'jquants.bench.ts']
  .map((f) => resolve(import.meta.dirname, f))
  .filter((f) => existsSync(f));
let failed = false;
for (const file of benches) {
  const args = file.endsWith('scrape.bench.ts') ? process.argv.slice(2) : [];
  const res = spawnSync(process.execPath, ['--import', 'tsx', file, ...args], { stdio: 'inherit' });
  if (res.status !== 0) {
    console.error(`${file} exited with ${res.status ?? res.signal}`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
