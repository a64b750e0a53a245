import { describe, expect, it } from 'vitest';
import {
  gridSummary,
  importCommand,
  reliabilityPoints,
  trackCells,
  trackGoals,
  trackRuns,
  type TrackCell,
} from '../app/utils/track-record';

describe('track record', () => {
  it('places reliability points by forecast (across) and observed rate (up), sized by share', () => {
    const pts = reliabilityPoints(
      [
        { lo: 0, hi: 0.1, count: 0, meanForecast: null, observedRate: null },
        { lo: 0.5, hi: 0.6, count: 300, meanForecast: 0.55, observedRate: 0.5 },
        { lo: 0.6, hi: 0.7, count: 100, meanForecast: 0.65, observedRate: 0.75 },
      ],
      100,
    );
    expect(pts).toHaveLength(2);
    expect(pts[0]!.x).toBeCloseTo(55, 12);
    expect(pts[0]!.y).toBeCloseTo(50, 12);
    expect(pts[1]!.y).toBeCloseTo(25, 12);
    expect(pts[0]!.r).toBeGreaterThan(pts[1]!.r);
  });

  it('rebuilds the import command from the run it belongs to', () => {
    expect(
      importCommand({
        source: '/data/x/prices.csv.gz',
        command: 'npm run backtest:grid -w ml-service -- --data /tmp/store --dataset x',
      }),
    ).toBe('npm run import -w scraper -- /data/x/prices.csv.gz --data /tmp/store --market US --currency USD');
  });

  it('counts judged, goal-meeting, calibrated and skilful cells from the statuses the report carries', () => {
    const cell = (judged: boolean, pUp: boolean, bands: boolean, skill: number) =>
      ({ judged, goals: { pUp, bands }, calibrated: pUp && bands, brierSkillCalibrated: skill }) as TrackCell;
    expect(
      gridSummary([
        cell(true, true, true, 0.01),
        cell(true, false, true, -0.02),
        cell(true, false, false, -0.01),
        cell(false, false, false, 0.03),
      ]),
    ).toEqual({ cells: 4, judged: 3, pUpGoal: 1, bandsGoal: 2, calibrated: 1, skilful: 2 });
  });

  it('the committed report has the whole grid for each dataset, and each verdict follows from its own numbers', () => {
    expect(trackRuns.length).toBeGreaterThanOrEqual(2);
    for (const run of trackRuns) {
      const cells = trackCells.filter((c) => c.dataset === run.dataset);
      expect(cells.map((c) => `${c.length}/${c.horizon}`).sort()).toEqual(
        [
          '30/5',
          '30/20',
          '30/60',
          '60/5',
          '60/20',
          '60/60',
          '120/5',
          '120/20',
          '120/60',
          '250/5',
          '250/20',
          '250/60',
        ].sort(),
      );
      expect(run.command).toMatch(/^npm run backtest:grid -w ml-service -- .*--data /);
      expect(cells.every((c) => c.conformal.method === run.methods.bands)).toBe(true);
    }
    for (const c of trackCells) {
      for (const key of [
        'n',
        'brier',
        'brierBaseRate',
        'ece',
        'eceCalibrated',
        'coverage80',
        'coverage80Conformal',
      ] as const)
        expect(typeof c[key]).toBe('number');
      // The report's own statuses agree with its own numbers and the goals it states.
      const g = trackGoals;
      expect(c.judged).toBe(c.n >= g.minTestN);
      expect(c.goals.pUp).toBe(c.judged && c.eceCalibrated! <= g.ece);
      expect(c.goals.bands).toBe(
        c.judged && Math.abs(c.coverage80Conformal! - g.coverage80.nominal) <= g.coverage80.tolerance,
      );
      expect(c.calibrated).toBe(c.goals.pUp && c.goals.bands);
      expect(c.missed === null).toBe(c.calibrated);
    }
  });
});
