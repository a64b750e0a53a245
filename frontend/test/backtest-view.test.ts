import { describe, expect, it } from 'vitest';
import { columns, summarize, type BacktestResult } from '../app/utils/backtest-view';

const result = (samples: BacktestResult['samples'], extra: Partial<BacktestResult> = {}): BacktestResult => ({
  code: 'AAA',
  samples,
  evaluated: samples.filter((s) => s.predictedUp !== null).length,
  hitRate: null,
  meanAbsError: null,
  ...extra,
});

describe('backtest view', () => {
  it('computes base rate, Brier and skill when an older result lacks them', () => {
    const s = summarize(
      result(
        [
          { end: '2020-01-01', predictedUp: 0.8, actualReturn: 0.1 },
          { end: '2020-02-01', predictedUp: 0.4, actualReturn: -0.05 },
          { end: '2020-03-01', predictedUp: 0.6, actualReturn: -0.02 },
          { end: '2020-04-01', predictedUp: null, actualReturn: 0.03 },
        ],
        { hitRate: 2 / 3 },
      ),
    );
    expect(s.baseRate).toBeCloseTo(0.5, 12);
    expect(s.baseHitRate).toBeCloseTo(0.5, 12);
    expect(s.brier).toBeCloseTo((0.04 + 0.16 + 0.36) / 3, 12);
    expect(s.baseBrier).toBeCloseTo(0.25, 12);
    expect(s.skill).toBeCloseTo(1 - 0.56 / 3 / 0.25, 12);
  });

  it('prefers the scores the backend computed', () => {
    const s = summarize(
      result([{ end: '2020-01-01', predictedUp: 1, actualReturn: -1 }], {
        brier: 0.3,
        baseRate: 0.7,
        baseBrier: 0.2,
      }),
    );
    expect(s).toMatchObject({ brier: 0.3, baseRate: 0.7, baseBrier: 0.2 });
    expect(s.baseHitRate).toBeCloseTo(0.7, 12);
    expect(s.skill).toBeCloseTo(-0.5, 12);
  });

  it('lays out one column per sample inside the box', () => {
    const cols = columns(
      [
        { end: 'a', predictedUp: 1, actualReturn: 0.2 },
        { end: 'b', predictedUp: 0, actualReturn: -0.1 },
        { end: 'c', predictedUp: null, actualReturn: 0 },
      ],
      300,
      200,
    );
    expect(cols).toHaveLength(3);
    for (const c of cols) {
      expect(c.x).toBeGreaterThanOrEqual(0);
      expect(c.x + c.width).toBeLessThanOrEqual(300);
      expect(c.barY).toBeGreaterThanOrEqual(100);
      expect(c.barY + c.barH).toBeLessThanOrEqual(200);
    }
    expect(cols[0]).toMatchObject({ up: true, hit: true, dotY: 4 });
    expect(cols[1]).toMatchObject({ up: false, hit: true, dotY: 96 });
    expect(cols[2]).toMatchObject({ dotY: null, hit: null, barH: 0 });
    // The bigger move has the taller bar.
    expect(cols[0]!.barH).toBeCloseTo(2 * cols[1]!.barH, 9);
    expect(columns([], 10, 10)).toEqual([]);
  });
});
