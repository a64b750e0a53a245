/**
 * A search as a link: the stock, window, timeframe and options in the page URL, so a reload or a shared
 * link runs the same search. Pure: the app page reads and writes the query with these two functions.
 * Parameter names are short but readable: code, start, end, tf, metric, topK, horizon, model, mode, norm,
 * market, sector, kind.
 */
import {
  entityKindSchema,
  type EntityFacets,
  type SimilarRequest,
  type Timeframe,
} from '@resemble/contracts';
import { TIMEFRAMES } from './timeframe';

export const MODELS = ['analogue', 'baseline', 'brainjs'] as const;
export const METRICS = ['zned', 'dtw'] as const;
export const MODES = ['history', 'now'] as const;
export const NORMS = ['z', 'mean'] as const;
export const FILTER_KEYS = ['market', 'sector', 'kind'] as const;

export interface SearchState {
  code: string;
  /** The window; both or neither. */
  start?: string;
  end?: string;
  tf: Timeframe;
  metric: (typeof METRICS)[number];
  topK: number;
  horizon: number;
  model: (typeof MODELS)[number];
  mode: (typeof MODES)[number];
  norm: (typeof NORMS)[number];
  filters: Partial<Record<(typeof FILTER_KEYS)[number], string>>;
}

/** What is wrong with one URL parameter; the page says it with i18n key searchUrl.errors.<reason>. */
export interface UrlProblem {
  param: string;
  reason: 'oneOf' | 'date' | 'order' | 'pair' | 'int' | 'range' | 'filter';
  /** The allowed values or limits, for the message. */
  allowed?: string;
  /** The value given, when the message names it (a market or sector no stock is filed under). */
  value?: string;
}

export const DEFAULTS = { metric: 'zned', topK: 5, model: 'analogue', mode: 'history', norm: 'z' } as const;

const ISO = /^\d{4}-\d{2}-\d{2}$/;
const realDate = (s: string) => ISO.test(s) && new Date(`${s}T00:00:00Z`).toISOString().slice(0, 10) === s;

type Query = Record<string, unknown>;
const one = (q: Query, k: string): string | undefined => {
  const v = q[k];
  const s = Array.isArray(v) ? v[0] : v;
  return typeof s === 'string' && s.trim() !== '' ? s.trim() : undefined;
};

/**
 * Reads a search from a route query. Unknown values are reported (never silently replaced), each with
 * the parameter's name; what is missing takes the defaults (horizon: the timeframe's default). A kind
 * must be one of the kinds; a market or sector must be one of `facets` (the form's choices) when they
 * are known (without them, ml-service's 400 unknown_filter still names a bad one when the search runs).
 */
export function parseSearchQuery(
  q: Query,
  defaultHorizon: Record<Timeframe, number>,
  facets?: EntityFacets | null,
): { state: SearchState | null; problems: UrlProblem[] } {
  const problems: UrlProblem[] = [];
  const code = one(q, 'code');
  const pick = <T extends string>(k: string, list: readonly T[], def: T): T => {
    const v = one(q, k);
    if (v === undefined) return def;
    if ((list as readonly string[]).includes(v)) return v as T;
    problems.push({ param: k, reason: 'oneOf', allowed: list.join(', ') });
    return def;
  };
  const int = (k: string, min: number, max: number, def: number): number => {
    const v = one(q, k);
    if (v === undefined) return def;
    if (!/^\d+$/.test(v)) {
      problems.push({ param: k, reason: 'int' });
      return def;
    }
    const n = Number(v);
    if (n < min || n > max) {
      problems.push({ param: k, reason: 'range', allowed: `${min}–${max}` });
      return def;
    }
    return n;
  };
  const tf = pick('tf', TIMEFRAMES, 'D');
  const start = one(q, 'start');
  const end = one(q, 'end');
  for (const [k, v] of [
    ['start', start],
    ['end', end],
  ] as const)
    if (v !== undefined && !realDate(v)) problems.push({ param: k, reason: 'date' });
  if ((start === undefined) !== (end === undefined))
    problems.push({ param: start === undefined ? 'start' : 'end', reason: 'pair' });
  else if (start && end && realDate(start) && realDate(end) && start >= end)
    problems.push({ param: 'end', reason: 'order' });
  const filters: SearchState['filters'] = {};
  for (const k of FILTER_KEYS) {
    const v = one(q, k);
    if (v === undefined) continue;
    if (k === 'kind' && !(entityKindSchema.options as readonly string[]).includes(v))
      problems.push({ param: k, reason: 'oneOf', allowed: entityKindSchema.options.join(', ') });
    else if (k !== 'kind' && facets && !facets[k === 'market' ? 'markets' : 'sectors'].includes(v))
      problems.push({ param: k, reason: 'filter', value: v });
    else filters[k] = v;
  }
  const state: SearchState = {
    code: code ?? '',
    start,
    end,
    tf,
    metric: pick('metric', METRICS, DEFAULTS.metric),
    topK: int('topK', 1, 100, DEFAULTS.topK),
    horizon: int('horizon', 1, 250, defaultHorizon[tf]),
    model: pick('model', MODELS, DEFAULTS.model),
    mode: pick('mode', MODES, DEFAULTS.mode),
    norm: pick('norm', NORMS, DEFAULTS.norm),
    filters,
  };
  return { state: code ? state : null, problems };
}

/** The query of a search: defaults left out so links stay short; the window only when there is one. */
export function searchQuery(s: SearchState): Record<string, string> {
  const q: Record<string, string> = { code: s.code };
  if (s.start && s.end) {
    q.start = s.start;
    q.end = s.end;
  }
  if (s.tf !== 'D') q.tf = s.tf;
  if (s.metric !== DEFAULTS.metric) q.metric = s.metric;
  if (s.topK !== DEFAULTS.topK) q.topK = String(s.topK);
  q.horizon = String(s.horizon);
  if (s.model !== DEFAULTS.model) q.model = s.model;
  if (s.mode !== DEFAULTS.mode) q.mode = s.mode;
  if (s.norm !== DEFAULTS.norm) q.norm = s.norm;
  for (const k of FILTER_KEYS) if (s.filters[k]) q[k] = s.filters[k]!;
  return q;
}

/** A stored search (a recent search, a saved pattern's request) as the state its link carries. */
export function stateFromRequest(r: Partial<SimilarRequest> & { query?: unknown }): SearchState | null {
  const query = r.query as { code?: string; start?: string; end?: string } | undefined;
  if (!query?.code) return null;
  const tf = (r.timeframe ?? 'D') as Timeframe;
  return {
    code: query.code,
    start: query.start,
    end: query.end,
    tf,
    metric: r.metric ?? DEFAULTS.metric,
    topK: r.topK ?? DEFAULTS.topK,
    horizon: r.horizon ?? 20,
    model: DEFAULTS.model,
    mode: r.mode ?? DEFAULTS.mode,
    norm: r.normalize ?? DEFAULTS.norm,
    filters: Object.fromEntries(
      FILTER_KEYS.map((k) => [k, (r.filters as Record<string, unknown> | undefined)?.[k]]).filter(
        ([, v]) => typeof v === 'string' && v !== '',
      ),
    ) as SearchState['filters'],
  };
}
