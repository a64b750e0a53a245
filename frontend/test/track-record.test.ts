import { describe, expect, it } from 'vitest';
import {
  gridSummary,
  importCommand,
  reliabilityPoints,
  trackCells,
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

  it('counts judged, calibrated and skilful cells', () => {
    const cell = (n: number, calibrated: boolean, skill: number) =>
      ({ n, calibrated, brierSkillCalibrated: skill }) as TrackCell;
    expect(gridSummary([cell(600, true, 0.01), cell(600, false, -0.02), cell(100, false, 0.03)])).toEqual({
      cells: 3,
      judged: 2,
      calibrated: 1,
      skilful: 2,
    });
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
      const met = c.n >= 500 && c.eceCalibrated! <= 0.03 && Math.abs(c.coverage80Conformal! - 0.8) <= 0.03;
      expect(c.calibrated).toBe(met);
      expect(c.missed === null).toBe(met);
    }
  });
});
