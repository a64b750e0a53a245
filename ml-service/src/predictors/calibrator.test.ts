import { describe, expect, it } from 'vitest';
import type { Forecast } from '@resemble/contracts';
import {
  applyCalibrator,
  CALIBRATOR_KIND,
  calibratorFileSchema,
  coversSetting,
  type CalibratorFile,
} from './calibrator.js';
import { applyIsotonic } from './isotonic.js';

const calibrator = (over: Partial<CalibratorFile> = {}): CalibratorFile => ({
  kind: CALIBRATOR_KIND,
  format: 1,
  version: 'analogue-L60-h3-test',
  createdAt: '2026-12-07T00:00:00Z',
  predictor: 'analogue',
  predictorVersion: 'zned-k30-1',
  horizon: 3,
  method: 'isotonic',
  fittedOn: { from: '1995-01-01', to: '2006-06-30', n: 600, dataVersion: 'x', markets: ['US'] },
  x: [0.2, 0.5, 0.8],
  y: [0.5, 0.55, 0.6],
  metrics: {
    fit: { n: 600, brierBefore: null, brierAfter: null, eceBefore: null, eceAfter: null },
    test: null,
  },
  lengths: { min: 43, max: 84 },
  conformal: { q80: 0.02, q50: -0.005, n: 600, method: 'split', normalised: false },
  goals: { pUp: true, bands: true, n: 560, eceCalibrated: 0.02, coverage80Conformal: 0.81 },
  ...over,
});

const forecast: Forecast = {
  n: 30,
  horizon: 3,
  mean: 0.01,
  median: 0.01,
  quantiles: { p10: -0.05, p25: -0.01, p50: 0.01, p75: 0.03, p90: 0.06 },
  fan: [
    { p10: 0.97, p25: 0.99, p50: 1.0, p75: 1.01, p90: 1.03 },
    { p10: 0.96, p25: 0.99, p50: 1.005, p75: 1.02, p90: 1.05 },
    { p10: 0.95, p25: 0.99, p50: 1.01, p75: 1.03, p90: 1.06 },
  ],
  pUp: 0.6,
  baseRateUp: 0.55,
  basis: { kind: 'analogues', n: 30, trainedTo: null },
  effectiveN: 12,
  pUpInterval: { lo: 0.37, hi: 0.79, level: 0.9 },
  verdict: 'no-difference',
  pUpCalibrated: null,
  calibratorId: null,
  calibrated: false,
  bands: 'empirical',
};

const US = { markets: ['US', 'US'], vol: null };

describe('calibrators of a setting', () => {
  it('cover their horizon and their range of query lengths only', () => {
    const c = calibrator();
    expect(coversSetting(c, 43, 3)).toBe(true);
    expect(coversSetting(c, 84, 3)).toBe(true);
    expect(coversSetting(c, 42, 3)).toBe(false);
    expect(coversSetting(c, 85, 3)).toBe(false);
    expect(coversSetting(c, 60, 5)).toBe(false);
    expect(coversSetting(calibrator({ lengths: undefined }), 400, 3)).toBe(true);
  });

  it('apply the isotonic map and the conformal offsets (scaled by √(step/h) along the fan)', () => {
    const out = applyCalibrator(forecast, calibrator(), US);
    expect(out.pUpCalibrated).toBeCloseTo(applyIsotonic(calibrator(), 0.6), 12);
    expect(out.calibratorId).toBe('analogue-L60-h3-test');
    expect(out.calibrated).toBe(true);
    expect(out.bands).toBe('conformal');
    expect(out.quantiles!.p10).toBeCloseTo(-0.07, 12);
    expect(out.quantiles!.p90).toBeCloseTo(0.08, 12);
    expect(out.quantiles!.p25).toBeCloseTo(-0.005, 12); // a negative q50 narrows the middle band
    expect(out.quantiles!.p75).toBeCloseTo(0.025, 12);
    expect(out.fan[2]!.p10).toBeCloseTo(1 + out.quantiles!.p10, 12);
    expect(out.fan[0]!.p90).toBeCloseTo(1.03 + 0.02 * Math.sqrt(1 / 3), 12);
    // Untouched: the raw share, its interval and verdict.
    expect(out.pUp).toBe(0.6);
    expect(out.pUpInterval).toEqual(forecast.pUpInterval);
    expect(out.verdict).toBe('no-difference');
  });

  it('keep the five quantiles in order when a band narrows past the median', () => {
    const out = applyCalibrator(
      forecast,
      calibrator({ conformal: { q80: -0.2, q50: -0.2, n: 600, method: 'split', normalised: false } }),
      US,
    );
    const q = out.quantiles!;
    expect(q.p10).toBeLessThanOrEqual(q.p25);
    expect(q.p25).toBeLessThanOrEqual(q.p50);
    expect(q.p50).toBeLessThanOrEqual(q.p75);
    expect(q.p75).toBeLessThanOrEqual(q.p90);
    for (const f of out.fan) expect(f.p10).toBeGreaterThan(0);
  });

  it('offer only the parts that met their goal; a missed cell is not calibrated', () => {
    const missedPUp = applyCalibrator(
      forecast,
      calibrator({
        goals: { pUp: false, bands: true, n: 560, eceCalibrated: 0.05, coverage80Conformal: 0.8 },
      }),
      US,
    );
    expect(missedPUp.pUpCalibrated).toBeNull();
    expect(missedPUp.bands).toBe('conformal');
    expect(missedPUp.calibrated).toBe(false);
    expect(missedPUp.calibratorId).toBe('analogue-L60-h3-test');
    const missedBands = applyCalibrator(
      forecast,
      calibrator({
        goals: { pUp: true, bands: false, n: 560, eceCalibrated: 0.02, coverage80Conformal: 0.88 },
      }),
      US,
    );
    expect(missedBands.quantiles).toEqual(forecast.quantiles);
    expect(missedBands.bands).toBe('empirical');
    expect(missedBands.calibrated).toBe(false);
    expect(applyCalibrator(forecast, undefined, US)).toBe(forecast);
  });

  it("scale normalised offsets by the query's own vol·√h, and leave the bands alone without a vol", () => {
    const c = calibrator({
      conformal: { q80: 0.5, q50: 0.1, n: 600, method: 'aci', normalised: true, volWindow: 20 },
    });
    const vol = 0.02;
    const out = applyCalibrator(forecast, c, { markets: ['US'], vol });
    const unit = vol * Math.sqrt(3);
    expect(out.bands).toBe('conformal');
    expect(out.quantiles!.p10).toBeCloseTo(-0.05 - 0.5 * unit, 12);
    expect(out.quantiles!.p90).toBeCloseTo(0.06 + 0.5 * unit, 12);
    expect(out.quantiles!.p75).toBeCloseTo(0.03 + 0.1 * unit, 12);
    expect(out.fan[0]!.p90).toBeCloseTo(1.03 + 0.5 * unit * Math.sqrt(1 / 3), 12);
    expect(out.calibrated).toBe(true);
    const noVol = applyCalibrator(forecast, c, { markets: ['US'], vol: null });
    expect(noVol.bands).toBe('empirical');
    expect(noVol.quantiles).toEqual(forecast.quantiles);
    expect(noVol.pUpCalibrated).not.toBeNull();
    expect(noVol.calibrated).toBe(false);
    // A normalised file must say which volatility its offsets are in.
    const { volWindow: _, ...withoutWindow } = c.conformal!;
    expect(calibratorFileSchema.safeParse({ ...c, conformal: withoutWindow }).success).toBe(false);
  });

  it('apply only to a store of the markets they were fitted on', () => {
    for (const markets of [['JP'], ['US', 'JP'], []]) {
      const out = applyCalibrator(forecast, calibrator(), { markets, vol: 0.01 });
      expect(out).toBe(forecast);
      expect(out.calibrated).toBe(false);
      expect(out.calibratorId).toBeNull();
    }
    // A calibrator that does not say where it was fitted applies nowhere.
    const unknown = calibrator({ fittedOn: { from: 'a', to: 'b', n: 600, dataVersion: 'x' } });
    expect(applyCalibrator(forecast, unknown, US)).toBe(forecast);
  });
});
