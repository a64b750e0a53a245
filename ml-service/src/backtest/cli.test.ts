import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeStore } from '../../test/support/write-store.js';
import { brainjsModelFileSchema } from '../predictors/brainjs-model.js';
import { calibratorFileSchema } from '../predictors/calibrator.js';
import { randomWalkEntities } from '../predictors/synthetic-market.js';

const run = promisify(execFile);
const serviceDir = resolve(import.meta.dirname, '../..');
const tsx = resolve(serviceDir, '../node_modules/.bin/tsx');

async function cli(script: string, args: string[]) {
  try {
    const { stdout, stderr } = await run(tsx, [join(serviceDir, 'src', 'cli', script), ...args], {
      cwd: serviceDir,
      env: { ...process.env, INIT_CWD: serviceDir },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('train and backtest CLIs on a tiny store', () => {
  let root: string;
  let dataDir: string;
  let modelsDir: string;
  let outDir: string;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'b2-cli-'));
    dataDir = join(root, 'data');
    modelsDir = join(root, 'models');
    outDir = join(root, 'report');
    writeStore(dataDir, randomWalkEntities(17, 4, 500), 'tiny-1');
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('train writes a valid versioned model file and prints its validation scores', async () => {
    const r = await cli('train.cli.ts', [
      '--data',
      dataDir,
      '--out',
      join(modelsDir, 'brainjs-h5.json'),
      '--horizon',
      '5',
      '--window',
      '6',
      '--to',
      '2000-12-31',
      '--hidden',
      '4',
      '--iterations',
      '2',
      '--max-samples',
      '400',
    ]);
    expect(r.stderr).toMatch(/training/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/validation .* Brier/);
    const file = brainjsModelFileSchema.parse(
      JSON.parse(readFileSync(join(modelsDir, 'brainjs-h5.json'), 'utf8')),
    );
    expect(file).toMatchObject({
      horizon: 5,
      windowReturns: 6,
      training: { dataVersion: 'tiny-1', iterations: 2 },
    });
    expect(file.training.to <= '2000-12-31').toBe(true);
    expect(readdirSync(modelsDir)).toEqual(['brainjs-h5.json']);
  });

  it('backtest writes the JSON, CSV and HTML report and only helpful calibrators', async () => {
    const r = await cli('backtest.cli.ts', [
      '--data',
      dataDir,
      '--models-dir',
      modelsDir,
      '--out',
      outDir,
      '--from',
      '2001-01-01',
      '--to',
      '2001-10-31',
      '--step',
      '3',
      '--per-date',
      '3',
      '--length',
      '20',
      '--horizon',
      '5',
      '--split',
      '2001-06-01',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/queries on \d+ dates/);
    const report = JSON.parse(readFileSync(join(outDir, 'report.json'), 'utf8'));
    expect(report.summaries.map((s: { model: string }) => s.model)).toEqual([
      'analogue',
      'baseline',
      'brainjs',
    ]);
    const csv = readFileSync(join(outDir, 'predictions.csv'), 'utf8').trim().split('\n');
    expect(csv.length - 1).toBe(
      report.summaries.reduce((n: number, s: { all: { n: number } }) => n + s.all.n, 0),
    );
    expect(readFileSync(join(outDir, 'index.html'), 'utf8')).toMatch(/<svg /);
    for (const note of report.calibratorNotes as string[]) {
      const model = note.split(':')[0]!;
      const path = join(outDir, 'calibrators', `calibrator-${model}-h5.json`);
      expect(existsSync(path)).toBe(note.includes('written —') && !note.includes('not written'));
      if (existsSync(path)) {
        const c = calibratorFileSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
        expect(c.metrics.test!.brierAfter!).toBeLessThan(c.metrics.test!.brierBefore!);
      }
    }
  });

  it('rejects bad arguments with the reason and exit code 2', async () => {
    const r = await cli('backtest.cli.ts', ['--model', 'oracle', '--step', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--model/);
    expect(r.stderr).toMatch(/--step/);
    const t = await cli('train.cli.ts', ['--data', join(root, 'missing')]);
    expect(t.code).toBe(1);
    expect(t.stderr).toMatch(/no catalog at/);
  });
});
