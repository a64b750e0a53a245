/** CSV of a similarity result: one row per match, formula-looking cells neutralised for spreadsheets. */
import { similarResponseSchema } from '@resemble/contracts';

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  let s = String(v);
  if (/^[=+\-@\t\r]/.test(s) && typeof v === 'string') s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function similarToCsv(result: unknown): string {
  const r = similarResponseSchema.parse(result);
  const lines = [
    ['rank', 'code', 'start', 'end', 'distance', 'forward_return', 'data_version', 'as_of', 'timeframe'].join(
      ',',
    ),
  ];
  r.matches.forEach((m, i) =>
    lines.push(
      [i + 1, m.code, m.start, m.end, m.distance, m.forwardReturn, r.dataVersion, r.asOf, r.timeframe]
        .map(cell)
        .join(','),
    ),
  );
  return `${lines.join('\r\n')}\r\n`;
}
