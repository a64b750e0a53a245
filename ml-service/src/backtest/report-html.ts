/**
 * The backtest's HTML report: one self-contained page (inline CSS and SVG) with the headline table, the
 * reliability diagrams, the coverage charts and the calibration before/after — honest about "no edge".
 */
import type { ModelSummary, ProbabilityScores } from './score.js';
import { PALETTE, coverageBars, coverageByYear, escapeXml, reliabilityDiagram } from './svg.js';

export interface ReportInput {
  title: string;
  command: string;
  generatedAt: string;
  dataVersion: string;
  dataDescription: string;
  settings: Record<string, string | number>;
  evaluationDates: number;
  queries: number;
  seconds: number;
  summaries: ModelSummary[];
  skipped: Record<string, Record<string, number>>;
  calibratorFiles: string[];
  calibratorNotes: string[];
}

/** One plain sentence per predictor: did it beat always forecasting the base rate? */
export function verdict(s: ModelSummary): string {
  const skill = s.all.brierSkill;
  if (skill === null || s.all.n === 0) return `${s.model}: no scored predictions.`;
  const pctSkill = `${(skill * 100).toFixed(2)} %`;
  const cover =
    s.all.coverage80 === null
      ? ''
      : ` Its p10–p90 band held ${pct(s.all.coverage80)} of outcomes (nominal 80 %).`;
  const judged =
    skill > 0.005
      ? `beat the base rate (Brier skill ${pctSkill}).`
      : skill > -0.005
        ? `did no better than always forecasting the base rate (Brier skill ${pctSkill}): no edge.`
        : `was worse than always forecasting the base rate (Brier skill ${pctSkill}).`;
  return `${s.model} ${judged} Sign hit rate ${pct(s.all.hitRate)} against an up-share of ${pct(s.all.upRate)}.${cover}`;
}

const pct = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(1)} %`);
const num = (v: number | null, digits = 4) => (v === null ? '–' : v.toFixed(digits));

function scoreRow(label: string, s: ProbabilityScores, extra: string[] = []): string {
  const cells = [
    escapeXml(label),
    String(s.n),
    pct(s.upRate),
    pct(s.meanPUp),
    pct(s.hitRate),
    num(s.brier),
    num(s.brierBaseRate),
    s.brierSkill === null ? '–' : `${(s.brierSkill * 100).toFixed(2)} %`,
    num(s.ece),
    ...extra,
  ];
  return `<tr>${cells.map((c, i) => (i === 0 ? `<th>${c}</th>` : `<td>${c}</td>`)).join('')}</tr>`;
}

const SCORE_HEAD =
  '<tr><th>predictor</th><th>n</th><th>share up</th><th>mean pUp</th><th>sign hit rate</th><th>Brier</th><th>Brier of base rate</th><th>Brier skill</th><th>ECE</th>';

function reliabilityTableHtml(s: ProbabilityScores): string {
  const rows = s.reliability
    .map(
      (b) =>
        `<tr><td>${b.lo.toFixed(1)}–${b.hi.toFixed(1)}</td><td>${b.count}</td><td>${num(b.meanForecast, 3)}</td><td>${num(b.observedRate, 3)}</td></tr>`,
    )
    .join('');
  return `<table class="small"><tr><th>pUp bin</th><th>n</th><th>mean pUp</th><th>observed up</th></tr>${rows}</table>`;
}

export function renderReportHtml(input: ReportInput): string {
  const color = (i: number) => PALETTE[i % PALETTE.length]!;
  const baseRate = input.summaries[0]?.all.upRate ?? null;
  const headline = input.summaries
    .map((s) => scoreRow(`${s.model} (${s.versions.join(', ')})`, s.all, [pct(s.all.coverage80)]))
    .join('');
  const calibrationRows = input.summaries
    .filter((s) => s.calibration)
    .map((s) => {
      const c = s.calibration!;
      return [scoreRow(`${s.model} raw`, c.before), scoreRow(`${s.model} isotonic`, c.after)].join('');
    })
    .join('');
  const firstCal = input.summaries.find((s) => s.calibration)?.calibration;
  const perModel = input.summaries
    .map((s, i) => {
      const series = [{ name: `${s.model} (all)`, color: color(i), bins: s.all.reliability }];
      const calSeries = s.calibration
        ? [
            {
              name: 'raw (test period)',
              color: color(i),
              bins: s.calibration.before.reliability,
              dashed: true,
            },
            { name: 'isotonic (test period)', color: '#000', bins: s.calibration.after.reliability },
          ]
        : [];
      return `<section><h3>${escapeXml(s.model)}</h3><div class="row">${reliabilityDiagram(`Reliability — ${s.model}, all dates`, series, baseRate)}${
        calSeries.length
          ? reliabilityDiagram(
              `Before / after isotonic calibration — ${s.model}`,
              calSeries,
              s.calibration!.before.upRate,
            )
          : ''
      }</div><details><summary>Reliability table (all dates)</summary>${reliabilityTableHtml(s.all)}</details></section>`;
    })
    .join('');
  const skipped = Object.entries(input.skipped)
    .map(
      ([model, reasons]) =>
        `<li>${escapeXml(model)}: ${Object.entries(reasons)
          .map(([r, n]) => `${escapeXml(r)} × ${n}`)
          .join(', ')}</li>`,
    )
    .join('');
  const settings = Object.entries(input.settings)
    .map(([k, v]) => `<tr><th>${escapeXml(k)}</th><td>${escapeXml(String(v))}</td></tr>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(input.title)}</title>
<style>
body{font-family:sans-serif;max-width:1120px;margin:24px auto;padding:0 16px;color:#222;line-height:1.45}
table{border-collapse:collapse;margin:8px 0 16px}th,td{border:1px solid #ccc;padding:3px 8px;text-align:right;font-size:13px}
th:first-child{text-align:left}table.small td,table.small th{font-size:12px}.row{display:flex;flex-wrap:wrap;gap:12px}
code,pre{background:#f5f5f5;padding:2px 4px}pre{padding:8px;white-space:pre-wrap}
</style></head><body>
<h1>${escapeXml(input.title)}</h1>
<p>Generated ${escapeXml(input.generatedAt)} from data version <code>${escapeXml(input.dataVersion)}</code> (${escapeXml(input.dataDescription)}):
${input.evaluationDates} evaluation dates, ${input.queries} queries, ${input.seconds.toFixed(0)} s.</p>
<pre>${escapeXml(input.command)}</pre>
<h2>How to read this</h2>
<p>Walk-forward, no look-ahead: on each evaluation date a predictor may use only windows whose forward period
ended before that date, and the query's own stock is excluded within ± horizon rows. "pUp" is the forecast
probability that the stock is higher after the horizon. The <b>base rate</b> column is the Brier score of
always forecasting the market-wide share of up windows known at that date; <b>Brier skill</b> &gt; 0 means the
predictor beat it. ECE is the count-weighted gap between forecast and observed frequency over ten equal-width
bins. Coverage is the share of outcomes inside the forecast's p10–p90 band (nominal 80 %).</p>
<h2>Headline</h2>
<ul>${input.summaries.map((s) => `<li>${escapeXml(verdict(s))}</li>`).join('')}</ul>
<table>${SCORE_HEAD}<th>p10–p90 coverage</th></tr>${headline}</table>
${
  firstCal
    ? `<h2>Calibration (isotonic, fit ${escapeXml(firstCal.fit.from)}..${escapeXml(firstCal.fit.to)}, judged ${escapeXml(firstCal.test.from)}..${escapeXml(firstCal.test.to)})</h2>
<p>The calibrator is fitted only on evaluation dates (and outcomes) before the split and scored only after it.</p>
<table>${SCORE_HEAD}</tr>${calibrationRows}</table>
<ul>${input.calibratorNotes.map((n) => `<li>${escapeXml(n)}</li>`).join('')}</ul>
<p>Calibrator files written: ${input.calibratorFiles.map((f) => `<code>${escapeXml(f)}</code>`).join(', ') || 'none'}</p>`
    : '<p>No calibration split was requested or too few fit records.</p>'
}
<h2>Coverage of the p10–p90 band</h2>
<div class="row">${coverageBars(
    'p10–p90 coverage, all dates',
    input.summaries.map((s, i) => ({ name: s.model, color: color(i), value: s.all.coverage80 })),
  )}</div>
${coverageByYear(
  'p10–p90 coverage by year',
  input.summaries.map((s, i) => ({ name: s.model, color: color(i), points: s.all.coverageByYear })),
)}
<h2>Reliability per predictor</h2>
${perModel}
<h2>Refused predictions</h2>
<ul>${skipped || '<li>none</li>'}</ul>
<h2>Settings</h2>
<table>${settings}</table>
</body></html>
`;
}
