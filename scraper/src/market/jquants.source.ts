/** J-Quants as a market-day source: the TSE's calendar, master and daily bars (see jquants.client.ts). */

import type { CompanyPatch } from '../store/index.js';
import { fromJqCode, isoFromJq, JQuants, type JqBar, type JqMaster } from './jquants.client.js';
import { dateAtOffset, type DayBars, type MarketDaySource } from './market-day.service.js';

/** Bars of a J-Quants answer: null bars (no trade that day) are listed apart, never stored as zeros. */
export function jqDayBars(rows: readonly JqBar[]): DayBars {
  const out: DayBars = { bars: [], noTrade: [] };
  for (const r of rows) {
    const code = fromJqCode(r.Code);
    if (r.O == null || r.H == null || r.L == null || r.C == null || r.Vo == null) {
      out.noTrade.push(code);
      continue;
    }
    out.bars.push({
      code,
      date: isoFromJq(r.Date),
      open: r.O,
      high: r.H,
      low: r.L,
      close: r.C,
      volume: Math.round(r.Vo),
      ...(r.AdjFactor != null && r.AdjFactor !== 1 ? { splitFactor: r.AdjFactor } : {}),
    });
  }
  return out;
}

const text = (s: string | null | undefined) => {
  const t = s?.trim();
  return t && t !== '-' ? t : null;
};

/**
 * Master rows → patches. J-Quants gives Japanese and English names, sectors, the segment (MktNm) and the
 * TOPIX size class (ScaleCat); the kind (ETF, REIT …) is not in it, so a code the master knows keeps its
 * kind from the JPX listing, and S33 "9999" (その他: funds, ETFs, REITs) stays unclassified until then.
 */
export function jqMasterPatches(rows: readonly JqMaster[]): CompanyPatch[] {
  return rows.map((r) => {
    const other = r.S33 === '9999';
    const p: CompanyPatch = {
      code: fromJqCode(r.Code),
      market: 'JP',
      nameJa: text(r.CoName),
      nameEn: text(r.CoNameEn),
      sector33Code: other ? null : text(r.S33),
      sector33Name: other ? null : text(r.S33Nm),
      sector17Code: r.S17 === '99' ? null : text(r.S17),
      sector17Name: r.S17 === '99' ? null : text(r.S17Nm),
      segment: text(r.MktNm),
      sizeClass: text(r.ScaleCat),
    };
    return p;
  });
}

export function jquantsSource(jq: JQuants): MarketDaySource {
  return {
    name: 'jquants',
    market: 'JP',
    currency: 'JPY',
    tradingDays: (from, to) => jq.tradingDays(from, to),
    barsOnDate: async (date) => jqDayBars(await jq.barsOnDate(date)),
    barsOfCode: async (code, from, to) => jqDayBars(await jq.barsOfCode(code, from, to)),
    master: async () => {
      const rows = await jq.master();
      const asOf = rows.reduce<string | null>(
        (m, r) => (r.Date && (!m || isoFromJq(r.Date) > m) ? isoFromJq(r.Date) : m),
        null,
      );
      return { patches: jqMasterPatches(rows), asOf };
    },
    today: (now) => dateAtOffset(now, 9),
  };
}
