import { describe, expect, it } from 'vitest';
import { FEW_CASES, edge, explainForecast, shownPUp } from '../app/utils/forecast-text';

const f = (n: number, pUp: number | null, baseRateUp: number | null, pUpCalibrated?: number | null) => ({ n, pUp, baseRateUp, pUpCalibrated });

describe('forecast explanation', () => {
  it('says nothing useful without cases or a probability', () => {
    expect(explainForecast(f(0, null, 0.55))).toBe('explainNone');
    expect(explainForecast(f(0, 0.6, 0.55))).toBe('explainNone');
    expect(explainForecast(f(40, null, 0.55))).toBe('explainNone');
  });
  it('calls a handful of cases too few, whatever the odds', () => {
    expect(explainForecast(f(5, 0.8, 0.55))).toBe('explainFew');
    expect(explainForecast(f(FEW_CASES - 1, 0.1, 0.55))).toBe('explainFew');
  });
  it('calls a small difference from the base rate "no edge"', () => {
    expect(explainForecast(f(50, 0.57, 0.55))).toBe('explainSame');
    expect(explainForecast(f(50, 0.53, 0.55))).toBe('explainSame');
  });
  it('names the direction of a real difference', () => {
    expect(explainForecast(f(50, 0.7, 0.55))).toBe('explainAbove');
    expect(explainForecast(f(50, 0.4, 0.55))).toBe('explainBelow');
  });
  it('prefers the calibrated probability when there is one', () => {
    const x = f(50, 0.8, 0.55, 0.56);
    expect(shownPUp(x)).toBe(0.56);
    expect(edge(x)).toBeCloseTo(0.01);
    expect(explainForecast(x)).toBe('explainSame');
    expect(shownPUp(f(50, 0.8, 0.55, null))).toBe(0.8);
  });
  it('compares with one half when the base rate is unknown', () => {
    expect(explainForecast(f(50, 0.6, null))).toBe('explainAbove');
  });
});
