import { describe, expect, it } from 'vitest';
import {
  bandPath,
  extent,
  fanToPrices,
  linePath,
  pad,
  relativeToLast,
  resample,
  scaleLinear,
} from '../app/utils/chart-geometry';

describe('chart geometry', () => {
  it('scales linearly and draws a flat domain through the middle', () => {
    const s = scaleLinear([0, 10], [100, 0]);
    expect(s(0)).toBe(100);
    expect(s(5)).toBe(50);
    expect(scaleLinear([3, 3], [0, 40])(3)).toBe(20);
  });
  it('finds the extent over several series, skipping non-finite values', () => {
    expect(extent([1, 5], [Number.NaN, -2])).toEqual([-2, 5]);
    expect(extent([])).toEqual([0, 1]);
    expect(pad([0, 10], 0.1)).toEqual([-1, 11]);
  });
  it('builds line and band paths', () => {
    expect(linePath([0, 1, 2], [5, 6.333, 7])).toBe('M0 5L1 6.33L2 7');
    expect(bandPath([0, 1], [1, 2], [3, 4])).toBe('M0 3L1 4L1 2L0 1Z');
    expect(bandPath([], [], [])).toBe('');
  });
  it('makes a window end at 1 so the forward path joins it', () => {
    expect(relativeToLast([50, 100, 200])).toEqual([0.25, 0.5, 1]);
  });
  it('resamples by linear interpolation keeping both ends', () => {
    expect(resample([0, 10], 5)).toEqual([0, 2.5, 5, 7.5, 10]);
    expect(resample([1, 2, 3], 3)).toEqual([1, 2, 3]);
    const r = resample([4, 8, 2, 9, 1], 13);
    expect(r[0]).toBe(4);
    expect(r[12]).toBe(1);
  });
  it('turns relative fan rows into prices starting at the last close', () => {
    const fan = [{ p10: 0.9, p25: 0.95, p50: 1, p75: 1.05, p90: 1.1 }];
    const p = fanToPrices(fan, 200);
    expect(p.p10).toEqual([200, 180]);
    expect(p.p90[1]).toBeCloseTo(220);
    expect(p.p50).toEqual([200, 200]);
  });
});
