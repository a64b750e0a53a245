/**
 * The builder against stores written by the real writer (the scraper's importer), not only by the test
 * fixture: the 30-stock S&P 500 subset the cross-service tests use, then one more day for one stock, as
 * a daily run would add.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDataImage, type BuildResult } from '../src/build.js';
import { shardOf } from '../src/shard.js';
import { skopeoInspect } from './support/tools.js';

const repo = resolve(import.meta.dirname, '../..');
const SUBSET = resolve(repo, 'tests/fixtures/sp500-subset.csv.gz');
let root: string;
let data: string;

function importFile(file: string): void {
  const r = spawnSync(
    resolve(repo, 'node_modules/.bin/tsx'),
    [resolve(repo, 'scraper/src/import.cli.ts'), file, '--data', data],
    {
      encoding: 'utf8',
      env: { ...process.env, LOG_LEVEL: 'warn' },
    },
  );
  expect(r.status, r.stderr).toBe(0);
}

let first: BuildResult;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'data-image-writer-'));
  data = join(root, 'data');
  importFile(SUBSET);
  first = await buildDataImage({ dataDir: data, out: join(root, 'a', 'img.tar'), tag: 'subset' });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('stores written by the scraper importer', () => {
  it('are accepted and labelled with their real range', () => {
    expect(first.store.entities).toHaveLength(30);
    expect(first.labels['io.resemble.data.first-date']).toBe('2013-02-08');
    expect(first.labels['io.resemble.data.last-date']).toBe('2018-02-07');
    expect(skopeoInspect(`oci:${first.layout}:subset`).Labels['io.resemble.data.entity-count']).toBe('30');
  });

  it('a re-import of the same file changes nothing, so the image digest stays', async () => {
    importFile(SUBSET);
    const again = await buildDataImage({ dataDir: data, out: join(root, 'b', 'img.tar'), tag: 'subset' });
    expect(again.manifestDigest).toBe(first.manifestDigest);
  });

  it('one more day for AAPL changes only its shard layer and the catalog layer', async () => {
    const csv = join(root, 'aapl-day.csv');
    writeFileSync(
      csv,
      'ticker,date,open,high,low,close,volume\nAAPL,2018-02-08,160.29,161,155.03,155.15,54390516\n',
    );
    importFile(csv);
    const next = await buildDataImage({ dataDir: data, out: join(root, 'c', 'img.tar'), tag: 'subset' });
    expect(next.labels['io.resemble.data.last-date']).toBe('2018-02-08');
    const changed = next.layers
      .filter((l) => !first.layers.some((f) => f.digest === l.digest))
      .map((l) => l.createdBy);
    expect(changed).toEqual([
      expect.stringContaining(`entity shard ${shardOf('AAPL', 16)}/16 `),
      'resemble-data: catalog and run reports',
    ]);
  });
});
