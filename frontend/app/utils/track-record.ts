/**
 * The public track record: the calibration grid of docs/backtest/report.json, as the page renders it.
 * Only the grid and its runs are imported (Vite's named JSON exports), so the predictions and the old
 * one-setting summaries stay out of the bundle.
 */
import { grid, gridGoals, gridRuns } from '../../../docs/backtest/report.json';

export interface ReliabilityBin {
  lo: number;
  hi: number;
  count: number;
  meanForecast: number | null;
  observedRate: number | null;
}

export interface TrackCell {
  dataset: string;
  length: number;
  horizon: number;
  lengths: { min: number; max: number };
  fit: { from: string; to: string; n: number };
  test: { from: string; to: string };
  n: number;
  upRate: number | null;
  brier: number | null;
  brierCalibrated: number | null;
  brierBaseRate: number | null;
  brierSkill: number | null;
  brierSkillCalibrated: number | null;
  ece: number | null;
  eceCalibrated: number | null;
  coverage80: number | null;
  coverage80Conformal: number | null;
  conformal: { method: string; normalised: boolean };
  /** Status as the report states it (ml-service/src/backtest/grid.ts decides; this page never re-derives). */
  judged: boolean;
  goals: { pUp: boolean; bands: boolean };
  calibrated: boolean;
  missed: string | null;
  reliability: ReliabilityBin[];
  reliabilityCalibrated: ReliabilityBin[];
}

export interface TrackRun {
  dataset: string;
  description: string;
  source: string;
  command: string;
  generatedAt: string;
  dataVersion: string;
  settings: {
    from: string;
    to: string;
    split: string;
    step: number;
    perDate: number;
    seed: number;
    predictorVersion: string;
  };
  methods: { bands: string; pUp: string };
  queries: number;
  seconds: number;
}

export const trackCells = grid as unknown as TrackCell[];
export const trackRuns = gridRuns as unknown as TrackRun[];
/** The goals the report judged the cells by (shown on the page, never re-applied here). */
export const trackGoals = gridGoals as {
  minTestN: number;
  ece: number;
  coverage80: { nominal: number; tolerance: number };
};

/** The scraper import that builds the store a grid command reads (its --data), from the report's own fields. */
export function importCommand(run: Pick<TrackRun, 'source' | 'command'>): string {
  const data = /--data (\S+)/.exec(run.command)?.[1] ?? 'DIR';
  return `npm run import -w scraper -- ${run.source} --data ${data} --market US --currency USD`;
}

/** Points of a reliability diagram in a size×size box (y down), one per non-empty bin. */
export function reliabilityPoints(
  bins: readonly ReliabilityBin[],
  size: number,
): { x: number; y: number; r: number }[] {
  const total = bins.reduce((s, b) => s + b.count, 0);
  return bins
    .filter((b) => b.count > 0 && b.meanForecast !== null && b.observedRate !== null)
    .map((b) => ({
      x: b.meanForecast! * size,
      y: (1 - b.observedRate!) * size,
      // Area by share of forecasts, so a bin of 3 does not look like a bin of 300.
      r: 1.5 + 6 * Math.sqrt(b.count / Math.max(1, total)),
    }));
}

/**
 * Summary line numbers, counted from the statuses the report carries: cells judged, meeting the pUp goal,
 * the band goal, both, and with positive Brier skill after calibration.
 */
export function gridSummary(cells: readonly TrackCell[]) {
  return {
    cells: cells.length,
    judged: cells.filter((c) => c.judged).length,
    pUpGoal: cells.filter((c) => c.goals.pUp).length,
    bandsGoal: cells.filter((c) => c.goals.bands).length,
    calibrated: cells.filter((c) => c.calibrated).length,
    skilful: cells.filter((c) => (c.brierSkillCalibrated ?? -1) > 0).length,
  };
}
