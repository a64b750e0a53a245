/**
 * A seeded synthetic market written as real store files (catalog + one SQLite file per stock), cached in
 * the OS temp dir keyed by seed and size so reruns skip the minute of writing.
 */
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  businessDays,
  randomWalk,
  rng,
  writeCatalog,
  writeEntity,
  type FixtureEntity,
} from '../test/support/write-store.js';

export function syntheticMarketDir(seed: number, entities: number, days: number): string {
  const dir = join(tmpdir(), `resemble-bench-${seed}-${entities}x${days}`);
  if (existsSync(join(dir, 'COMPLETE'))) return dir;
  const work = `${dir}.partial-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const random = rng(seed);
  const dates = businessDays('1990-01-01', days);
  const metas: FixtureEntity[] = [];
  const started = performance.now();
  for (let i = 0; i < entities; i++) {
    const e: FixtureEntity = {
      code: `SYN${String(i).padStart(5, '0')}`,
      name: `Synthetic ${i}`,
      market: i % 4 === 0 ? 'JP' : 'US',
      currency: i % 4 === 0 ? 'JPY' : 'USD',
      dates,
      closes: randomWalk(random, days),
    };
    writeEntity(work, e);
    metas.push({ ...e, closes: [] });
    if ((i + 1) % 500 === 0) {
      process.stdout.write(
        `  wrote ${i + 1}/${entities} entity files (${((performance.now() - started) / 1000).toFixed(0)} s)\n`,
      );
    }
  }
  writeCatalog(work, metas, `synthetic-${seed}-${entities}x${days}`);
  writeFileSync(join(work, 'COMPLETE'), new Date().toISOString());
  rmSync(dir, { recursive: true, force: true });
  renameSync(work, dir);
  return dir;
}
