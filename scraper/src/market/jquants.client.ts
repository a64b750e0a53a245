/**
 * J-Quants API V2 (JPX): the endpoints Resemble uses, as the public spec describes them
 * (jpx-jquants.com/en/spec): the key in the x-api-key header; list answers are {"data": [...]} plus a
 * "pagination_key" while more pages follow; dates are accepted as YYYYMMDD or YYYY-MM-DD.
 * - GET /v2/markets/calendar?from&to → Date, HolDiv (0 closed, 1 open, 2 half day, 3 closed with
 *   holiday trading): the TSE trades on HolDiv 1 and 2.
 * - GET /v2/equities/master[?date] → Date, Code, CoName, CoNameEn, S17, S17Nm, S33, S33Nm, ScaleCat,
 *   Mkt, MktNm, Mrgn, MrgnNm.
 * - GET /v2/equities/bars/daily?date=… (the whole market) or ?code=…&from=…&to=… (one issue) → Date,
 *   Code, O, H, L, C, UL, LL, Vo, Va, AdjFactor, AdjO, AdjH, AdjL, AdjC, AdjVo; O/H/L/C/Vo are null on a
 *   day without trades; AdjFactor is the split factor on the ex-date (0.5 for a 1:2 split), else 1.
 */
import { z } from 'zod';
import type { ApiClient } from './api-client.js';

const num = z.number().nullable().optional();

export const jqBarSchema = z.object({
  Date: z.string(),
  Code: z.string(),
  O: num,
  H: num,
  L: num,
  C: num,
  Vo: num,
  AdjFactor: num,
});
export type JqBar = z.infer<typeof jqBarSchema>;

export const jqMasterSchema = z.object({
  Date: z.string().optional(),
  Code: z.string(),
  CoName: z.string().nullable().optional(),
  CoNameEn: z.string().nullable().optional(),
  S17: z.string().nullable().optional(),
  S17Nm: z.string().nullable().optional(),
  S33: z.string().nullable().optional(),
  S33Nm: z.string().nullable().optional(),
  ScaleCat: z.string().nullable().optional(),
  Mkt: z.string().nullable().optional(),
  MktNm: z.string().nullable().optional(),
});
export type JqMaster = z.infer<typeof jqMasterSchema>;

export const jqCalendarSchema = z.object({ Date: z.string(), HolDiv: z.string() });

const page = <T extends z.ZodType>(row: T) =>
  z.object({ data: z.array(row), pagination_key: z.string().optional() });

/** J-Quants five-character codes → Resemble's: a trailing 0 is the common-stock suffix (72030 → 7203). */
export function fromJqCode(code: string): string {
  return code.length === 5 && code.endsWith('0') ? code.slice(0, 4) : code;
}
/** YYYY-MM-DD → YYYYMMDD. */
export const jqDate = (iso: string) => iso.replaceAll('-', '');
/** '2024-01-04' or '20240104' → '2024-01-04'. */
export function isoFromJq(d: string): string {
  return /^\d{8}$/.test(d) ? `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}` : d;
}

export class JQuants {
  constructor(readonly api: ApiClient) {}

  /** Every page of a list endpoint, following pagination_key. */
  private async all<T extends z.ZodType>(
    path: string,
    params: Record<string, string | undefined>,
    row: T,
  ): Promise<z.infer<T>[]> {
    const out: z.infer<T>[] = [];
    let key: string | undefined;
    const schema = page(row);
    do {
      const raw = await this.api.getJson(path, { ...params, pagination_key: key });
      const parsed = schema.safeParse(raw);
      if (!parsed.success) {
        throw new Error(
          `unexpected answer from ${path}: ${parsed.error.issues
            .slice(0, 3)
            .map((i) => `${i.path.join('.')}: ${i.message}`)
            .join('; ')}`,
        );
      }
      out.push(...(parsed.data.data as z.infer<T>[]));
      key = parsed.data.pagination_key || undefined;
    } while (key);
    return out;
  }

  /** TSE trading days in [from, to] (ISO dates), ascending. */
  async tradingDays(from: string, to: string): Promise<string[]> {
    const rows = await this.all(
      '/v2/markets/calendar',
      { from: jqDate(from), to: jqDate(to) },
      jqCalendarSchema,
    );
    return rows
      .filter((r) => r.HolDiv === '1' || r.HolDiv === '2')
      .map((r) => isoFromJq(r.Date))
      .sort();
  }

  master(date?: string): Promise<JqMaster[]> {
    return this.all('/v2/equities/master', { date: date ? jqDate(date) : undefined }, jqMasterSchema);
  }

  barsOnDate(date: string): Promise<JqBar[]> {
    return this.all('/v2/equities/bars/daily', { date: jqDate(date) }, jqBarSchema);
  }

  barsOfCode(code: string, from: string, to: string): Promise<JqBar[]> {
    // A four-character code asks for the common stock only, which is what Resemble stores.
    return this.all('/v2/equities/bars/daily', { code, from: jqDate(from), to: jqDate(to) }, jqBarSchema);
  }
}
