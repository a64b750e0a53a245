import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../predictors/random.js';
import { renderReportHtml, verdict } from './report-html.js';
import { escapeXml } from './svg.js';
import { summarizeModel } from './score.js';
import type { PredictionRecord } from './walk-forward.js';

function records(seed: number): PredictionRecord[] {
  const random = mulberry32(seed);
  return Array.from({ length: 400 }, (_, i) => {
    const date = `${2001 + Math.floor(i / 40)}-0${1 + (i % 9)}-1${i % 10}`;
    const pUp = random();
    const actual = (random() - 0.45) * 0.2;
    return {
      date,
      code: `C${i % 7}`,
      model: 'analogue' as const,
      modelVersion: 'v1',
      pUp,
      p10: -0.08,
      p25: -0.04,
      p50: 0,
      p75: 0.04,
      p90: 0.08,
      actual,
      outcomeDate: `${2001 + Math.floor(i / 40)}-12-31`,
      baseRateUp: 0.53,
      vol: 0.01,
    };
  });
}

describe('verdict', () => {
  const base = summarizeModel('analogue', records(2), null);
  const withSkill = (brierSkill: number) => ({ ...base, all: { ...base.all, brierSkill } });
  it('says whether the predictor beat, matched or lost to the base rate', () => {
    expect(verdict(withSkill(0.02))).toMatch(/beat the base rate/);
    expect(verdict(withSkill(0.001))).toMatch(/no edge/);
    expect(verdict(withSkill(-0.04))).toMatch(
      /worse than always forecasting the base rate \(Brier skill -4\.00 %\)/,
    );
  });
});

describe('renderReportHtml', () => {
  const summary = summarizeModel('analogue', records(1), '2006-01-01');
  const html = renderReportHtml({
    title: 'Backtest <draft>',
    command: 'npm run backtest -w ml-service -- --step 5',
    generatedAt: '2026-01-01T00:00:00Z',
    dataVersion: 'abc',
    dataDescription: 'synthetic',
    settings: { step: 5 },
    evaluationDates: 10,
    queries: 400,
    seconds: 1,
    summaries: [summary],
    skipped: { brainjs: { model_unavailable: 400 } },
    calibratorFiles: ['docs/backtest/calibrators/calibrator-analogue-h20.json'],
    calibratorNotes: ['analogue: written'],
  });

  it('is self-contained: inline SVG plots, no scripts or external resources', () => {
    expect(html.match(/<svg /g)!.length).toBeGreaterThanOrEqual(4);
    expect(html).not.toMatch(/<script|<link|src=/);
    expect(html.replaceAll('http://www.w3.org/2000/svg', '')).not.toMatch(/https?:\/\//);
  });

  it('escapes text and shows the numbers it was given', () => {
    expect(html).toContain('Backtest &lt;draft&gt;');
    expect(html).toContain(summary.all.brier!.toFixed(4));
    expect(html).toContain('model_unavailable × 400');
    expect(html).toContain(escapeXml(verdict(summary)));
    expect(html).toContain(`${(summary.all.coverage80! * 100).toFixed(1)} %`);
  });
});
