/**
 * Inline SVG charts for the backtest report: no CDN, no script, so the HTML opens anywhere offline and
 * diffs readably in git.
 */
import type { ReliabilityBin } from './metrics.js';

export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

export function escapeXml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

const fmt = (v: number) => (Math.round(v * 100) / 100).toString();

interface Frame {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

function frame(width: number, height: number): Frame {
  return { width, height, left: 48, right: 150, top: 28, bottom: 40 };
}

function axes(
  f: Frame,
  title: string,
  xLabel: string,
  yLabel: string,
  xTicks: [number, string][],
  yTicks: [number, string][],
) {
  const x0 = f.left;
  const y0 = f.height - f.bottom;
  const x1 = f.width - f.right;
  const parts = [
    `<text x="${f.left}" y="16" font-size="13" font-weight="bold">${escapeXml(title)}</text>`,
    `<line x1="${x0}" y1="${y0}" x2="${x1}" y2="${y0}" stroke="#333"/>`,
    `<line x1="${x0}" y1="${f.top}" x2="${x0}" y2="${y0}" stroke="#333"/>`,
    `<text x="${(x0 + x1) / 2}" y="${f.height - 6}" font-size="11" text-anchor="middle">${escapeXml(xLabel)}</text>`,
    `<text x="12" y="${(f.top + y0) / 2}" font-size="11" text-anchor="middle" transform="rotate(-90 12 ${(f.top + y0) / 2})">${escapeXml(yLabel)}</text>`,
  ];
  for (const [x, label] of xTicks) {
    parts.push(`<line x1="${x}" y1="${y0}" x2="${x}" y2="${y0 + 4}" stroke="#333"/>`);
    parts.push(
      `<text x="${x}" y="${y0 + 15}" font-size="10" text-anchor="middle">${escapeXml(label)}</text>`,
    );
  }
  for (const [y, label] of yTicks) {
    parts.push(`<line x1="${x0 - 4}" y1="${y}" x2="${x0}" y2="${y}" stroke="#333"/>`);
    parts.push(`<line x1="${x0}" y1="${y}" x2="${x1}" y2="${y}" stroke="#eee"/>`);
    parts.push(
      `<text x="${x0 - 6}" y="${y + 3}" font-size="10" text-anchor="end">${escapeXml(label)}</text>`,
    );
  }
  return parts;
}

function legend(f: Frame, items: { name: string; color: string; dashed?: boolean }[]): string[] {
  const x = f.width - f.right + 12;
  return items.flatMap((item, i) => {
    const y = f.top + 8 + i * 18;
    return [
      `<line x1="${x}" y1="${y}" x2="${x + 18}" y2="${y}" stroke="${item.color}" stroke-width="2"${item.dashed ? ' stroke-dasharray="4 3"' : ''}/>`,
      `<text x="${x + 24}" y="${y + 4}" font-size="11">${escapeXml(item.name)}</text>`,
    ];
  });
}

function svg(f: Frame, parts: string[]): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${f.width}" height="${f.height}" viewBox="0 0 ${f.width} ${f.height}" font-family="sans-serif">${parts.join('')}</svg>`;
}

/**
 * Reliability diagram: observed up-rate against mean forecast per bin, marker area ∝ bin count, the
 * diagonal is perfect calibration and the dotted horizontal line the base rate.
 */
export function reliabilityDiagram(
  title: string,
  series: { name: string; color: string; bins: ReliabilityBin[]; dashed?: boolean }[],
  baseRate: number | null,
): string {
  const f = frame(520, 380);
  const px = (v: number) => f.left + v * (f.width - f.left - f.right);
  const py = (v: number) => f.height - f.bottom - v * (f.height - f.top - f.bottom);
  const ticks = [0, 0.2, 0.4, 0.6, 0.8, 1];
  const parts = axes(
    f,
    title,
    'forecast pUp (bin mean)',
    'observed share up',
    ticks.map((t) => [px(t), fmt(t)]),
    ticks.map((t) => [py(t), fmt(t)]),
  );
  parts.push(
    `<line x1="${px(0)}" y1="${py(0)}" x2="${px(1)}" y2="${py(1)}" stroke="#999" stroke-dasharray="3 3"/>`,
  );
  if (baseRate !== null) {
    parts.push(
      `<line x1="${px(0)}" y1="${py(baseRate)}" x2="${px(1)}" y2="${py(baseRate)}" stroke="#999" stroke-dasharray="1 3"/>`,
    );
  }
  for (const s of series) {
    const total = s.bins.reduce((a, b) => a + b.count, 0) || 1;
    const pts = s.bins.filter((b) => b.count > 0 && b.meanForecast !== null && b.observedRate !== null);
    if (pts.length > 1) {
      const d = pts
        .map((b, i) => `${i ? 'L' : 'M'}${px(b.meanForecast!).toFixed(1)},${py(b.observedRate!).toFixed(1)}`)
        .join('');
      parts.push(
        `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.5"${s.dashed ? ' stroke-dasharray="4 3"' : ''}/>`,
      );
    }
    for (const b of pts) {
      const r = 2 + 10 * Math.sqrt(b.count / total);
      parts.push(
        `<circle cx="${px(b.meanForecast!).toFixed(1)}" cy="${py(b.observedRate!).toFixed(1)}" r="${r.toFixed(1)}" fill="${s.color}" fill-opacity="0.35" stroke="${s.color}"><title>${escapeXml(`${s.name}: bin ${fmt(b.lo)}–${fmt(b.hi)}, n=${b.count}, forecast ${b.meanForecast!.toFixed(3)}, observed ${b.observedRate!.toFixed(3)}`)}</title></circle>`,
      );
    }
  }
  parts.push(
    ...legend(f, [
      ...series.map((s) => ({ name: s.name, color: s.color, dashed: s.dashed })),
      { name: 'perfect', color: '#999', dashed: true },
    ]),
  );
  return svg(f, parts);
}

/** Horizontal bars of p10–p90 coverage per predictor against the nominal 80 %. */
export function coverageBars(
  title: string,
  items: { name: string; color: string; value: number | null }[],
  nominal = 0.8,
): string {
  const rowHeight = 26;
  const f = { ...frame(520, 70 + items.length * rowHeight), left: 110, right: 40 };
  const px = (v: number) => f.left + v * (f.width - f.left - f.right);
  const ticks = [0, 0.2, 0.4, 0.6, 0.8, 1];
  const parts = axes(
    f,
    title,
    'share of outcomes inside p10–p90',
    '',
    ticks.map((t) => [px(t), fmt(t)]),
    [],
  );
  items.forEach((item, i) => {
    const y = f.top + 6 + i * rowHeight;
    parts.push(
      `<text x="${f.left - 6}" y="${y + 13}" font-size="11" text-anchor="end">${escapeXml(item.name)}</text>`,
    );
    if (item.value !== null) {
      parts.push(
        `<rect x="${px(0)}" y="${y}" width="${(px(item.value) - px(0)).toFixed(1)}" height="${rowHeight - 8}" fill="${item.color}" fill-opacity="0.7"/>`,
      );
      parts.push(
        `<text x="${px(item.value) + 4}" y="${y + 13}" font-size="11">${(item.value * 100).toFixed(1)} %</text>`,
      );
    }
  });
  parts.push(
    `<line x1="${px(nominal)}" y1="${f.top}" x2="${px(nominal)}" y2="${f.height - f.bottom}" stroke="#333" stroke-dasharray="4 3"/>`,
  );
  parts.push(
    `<text x="${px(nominal)}" y="${f.top - 4}" font-size="10" text-anchor="middle">nominal ${nominal * 100} %</text>`,
  );
  return svg(f, parts);
}

/** Coverage per calendar year, one line per predictor, with the nominal level as a dashed line. */
export function coverageByYear(
  title: string,
  series: { name: string; color: string; points: { year: string; coverage: number }[] }[],
  nominal = 0.8,
): string {
  const f = frame(720, 320);
  const years = [...new Set(series.flatMap((s) => s.points.map((p) => p.year)))].sort();
  if (years.length === 0) return svg(f, axes(f, title, 'year', 'coverage', [], []));
  const px = (year: string) =>
    f.left +
    (years.length === 1 ? 0.5 : years.indexOf(year) / (years.length - 1)) * (f.width - f.left - f.right);
  const py = (v: number) => f.height - f.bottom - v * (f.height - f.top - f.bottom);
  const every = Math.max(1, Math.ceil(years.length / 12));
  const parts = axes(
    f,
    title,
    'year of evaluation date',
    'inside p10–p90',
    years.filter((_, i) => i % every === 0).map((y) => [px(y), y]),
    [0, 0.2, 0.4, 0.6, 0.8, 1].map((t) => [py(t), fmt(t)]),
  );
  parts.push(
    `<line x1="${f.left}" y1="${py(nominal)}" x2="${f.width - f.right}" y2="${py(nominal)}" stroke="#333" stroke-dasharray="4 3"/>`,
  );
  for (const s of series) {
    const d = s.points
      .map((p, i) => `${i ? 'L' : 'M'}${px(p.year).toFixed(1)},${py(p.coverage).toFixed(1)}`)
      .join('');
    parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.5"/>`);
  }
  parts.push(...legend(f, [...series, { name: `nominal ${nominal * 100} %`, color: '#333', dashed: true }]));
  return svg(f, parts);
}
