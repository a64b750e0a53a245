/**
 * The calibrators shipped in models/ are the grid's: one per cell of the committed report's
 * huge-us-longhist run, each valid, covering its cell's lengths and horizon, and claiming only the goals
 * the report's held-out figures support.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  COVERAGE_GOAL,
  ECE_GOAL,
  GRID_HORIZONS,
  GRID_LENGTHS,
  lengthRange,
  MIN_TEST_N,
} from '../src/backtest/grid.js';
import { ANALOGUE_VERSION } from '../src/predictors/analogue.predictor.js';
import { calibratorFileSchema, coversSetting } from '../src/predictors/calibrator.js';

const root = resolve(import.meta.dirname, '../..');
const modelsDir = join(root, 'ml-service/models');
const report = JSON.parse(readFileSync(join(root, 'docs/backtest/report.json'), 'utf8')) as {
  grid: {
    dataset: string;
    length: number;
    horizon: number;
    n: number;
    eceCalibrated: number;
    coverage80Conformal: number;
    conformal: { q80: number };
  }[];
};

describe('shipped grid calibrators', () => {
  const files = readdirSync(modelsDir).filter((f) => /^calibrator-analogue-L\d+-h\d+\.json$/.test(f));

  it('are one per grid cell, valid, for the analogue version served today', () => {
    expect(files.sort()).toEqual(
      GRID_LENGTHS.flatMap((l) => GRID_HORIZONS.map((h) => `calibrator-analogue-L${l}-h${h}.json`)).sort(),
    );
    for (const f of files) {
      const c = calibratorFileSchema.parse(JSON.parse(readFileSync(join(modelsDir, f), 'utf8')));
      expect(c.predictorVersion).toBe(ANALOGUE_VERSION);
    }
  });

  it('cover their cell and claim only the goals the report shows were met', () => {
    for (const f of files) {
      const c = calibratorFileSchema.parse(JSON.parse(readFileSync(join(modelsDir, f), 'utf8')));
      const [, l, h] = /L(\d+)-h(\d+)/.exec(f)!.map(Number);
      expect(c.lengths).toEqual(lengthRange(l!));
      expect(coversSetting(c, l!, h!)).toBe(true);
      const cell = report.grid.find(
        (x) => x.dataset === 'huge-us-longhist' && x.length === l && x.horizon === h,
      )!;
      expect(cell).toBeDefined();
      expect(c.conformal!.q80).toBe(cell.conformal.q80);
      expect(c.goals!.pUp).toBe(cell.n >= MIN_TEST_N && cell.eceCalibrated <= ECE_GOAL);
      expect(c.goals!.bands).toBe(
        cell.n >= MIN_TEST_N &&
          Math.abs(cell.coverage80Conformal - COVERAGE_GOAL.nominal) <= COVERAGE_GOAL.tolerance,
      );
    }
  });
});
