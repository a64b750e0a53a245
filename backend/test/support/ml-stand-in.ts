/**
 * A local stand-in for ml-service speaking its HTTP contract (contracts/src/ml.ts), for tests about the
 * backend alone. It searches a few seeded synthetic series by brute-force z-normalised distance, so its
 * answers are real computations, and it records what it received (token, request id, bodies).
 */
import express from 'express';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import {
  pricesQuerySchema,
  resamplePriceRows,
  similarRequestSchema,
  predictRequestSchema,
} from '@resemble/contracts';

export interface MlStandIn {
  url: string;
  requests: { path: string; auth?: string; requestId?: string; body: unknown }[];
  setDown(down: boolean): void;
  setDataVersion(v: string): void;
  /** While on, DTW searches are held unanswered (as long searches would be) until released. */
  holdDtw(on: boolean): void;
  /** DTW searches held now, and the most held at once since the last reset. */
  held(): { now: number; max: number };
  resetHeld(): void;
  /** Answers each search this much later (a job then runs long enough to be killed or canceled). */
  setSearchDelay(ms: number): void;
  /** Deadlines (x-deadline-ms) received, in order. */
  deadlines: string[];
  close(): Promise<void>;
}

function series(seed: number, n: number): { date: string; close: number }[] {
  let x = seed;
  let price = 100;
  const out = [];
  const d = new Date(Date.UTC(2015, 0, 1));
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    price *= 1 + (x / 2 ** 31 - 0.5) * 0.04;
    out.push({ date: d.toISOString().slice(0, 10), close: Math.round(price * 100) / 100 });
    d.setUTCDate(d.getUTCDate() + 1);
  }
  return out;
}

const zn = (w: number[]) => {
  const m = w.reduce((a, b) => a + b, 0) / w.length;
  const s = Math.sqrt(w.reduce((a, b) => a + (b - m) ** 2, 0) / w.length) || 1;
  return w.map((v) => (v - m) / s);
};

export async function startMlStandIn(opts: { token?: string } = {}): Promise<MlStandIn> {
  const data: Record<string, { date: string; close: number }[]> = {
    AAA: series(1, 400),
    BBB: series(2, 400),
    CCC: series(3, 400),
  };
  let down = false;
  let dataVersion = 'v1';
  const requests: MlStandIn['requests'] = [];
  const deadlines: string[] = [];
  let holding = false;
  let searchDelayMs = 0;
  let heldNow = 0;
  let heldMax = 0;
  let releaseAll: (() => void)[] = [];
  const app = express();
  app.use(express.json());
  app.use((req, _res, next) => {
    const d = req.headers['x-deadline-ms'];
    if (typeof d === 'string') deadlines.push(d);
    next();
  });
  app.post('/v1/similar', (_req, _res, next) => {
    if (searchDelayMs > 0) setTimeout(next, searchDelayMs);
    else next();
  });
  app.post('/v1/similar', (req, res, next) => {
    if (!holding || req.body?.metric !== 'dtw') return next();
    heldNow++;
    heldMax = Math.max(heldMax, heldNow);
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      heldNow--;
    };
    res.on('close', finish);
    releaseAll.push(() => {
      finish();
      next();
    });
  });
  app.use((req, res, next) => {
    requests.push({
      path: req.path,
      auth: req.headers.authorization,
      requestId: req.headers['x-request-id'] as string | undefined,
      body: req.body,
    });
    if (req.headers['x-request-id']) res.setHeader('x-request-id', String(req.headers['x-request-id']));
    if (down) return res.status(503).json({ error: { code: 'unavailable', message: 'down' } });
    if (opts.token && req.headers.authorization !== `Bearer ${opts.token}`)
      return res.status(401).json({ error: { code: 'unauthorized', message: 'bad token' } });
    next();
  });
  app.get('/health', (_req, res) => {
    res.json({
      status: 'ready',
      dataVersion,
      entities: 3,
      points: 1200,
      loadedAt: new Date().toISOString(),
      lastReloadError: null,
      asOf: asOf(),
      models: [{ id: 'analogue', version: '1' }],
    });
  });
  const asOf = () =>
    Object.values(data).reduce((m, rows) => (rows.at(-1)!.date > m ? rows.at(-1)!.date : m), '');
  const summary = (code: string, rows: { date: string }[]) => ({
    ...{
      code,
      name: `${code} Corp`,
      nameJa: null,
      nameEn: `${code} Corp`,
      market: 'TEST',
      currency: 'USD',
      kind: 'stock',
      sector: 'Tests',
    },
    ...{
      sector33Code: null,
      sector33Name: null,
      sector17Code: null,
      sector17Name: null,
      gicsSector: 'Tests',
      segment: null,
      sizeClass: null,
    },
    ...{
      status: 'listed',
      listedSince: null,
      delistedSince: null,
      hasPrices: true,
      firstDate: rows[0]!.date,
      lastDate: rows.at(-1)!.date,
      rows: rows.length,
    },
  });
  app.get('/v1/entities', (req, res) => {
    const q = String(req.query.q ?? '').toUpperCase();
    const entities = Object.entries(data)
      .filter(([code]) => code.startsWith(q))
      .slice(0, Number(req.query.limit ?? 20))
      .map(([code, rows]) => ({
        ...summary(code, rows),
        match: code === q || q === '' ? 'exactCode' : 'codePrefix',
      }));
    res.json({ entities, asOf: asOf() });
  });
  app.get('/v1/entities/facets', (_req, res) => {
    res.json({ markets: ['TEST'], sectors: ['Tests'], kinds: ['stock'] });
  });
  app.get('/v1/entities/:code/prices', (req, res) => {
    const rows = data[req.params.code];
    if (!rows)
      return res
        .status(404)
        .json({ error: { code: 'unknown_code', message: `unknown code ${req.params.code}` } });
    const q = pricesQuerySchema.safeParse(req.query);
    if (!q.success)
      return res.status(400).json({ error: { code: 'invalid_request', message: 'bad prices query' } });
    const from = q.data.from ?? '0000';
    const to = q.data.to ?? '9999';
    const daily = rows
      .filter((r) => r.date >= from && r.date <= to)
      .map((r) => ({ ...r, open: r.close, high: r.close, low: r.close, volume: 1000 }));
    res.json({
      code: req.params.code,
      timeframe: q.data.timeframe,
      rows: resamplePriceRows(daily, q.data.timeframe),
      asOf: rows.at(-1)!.date,
    });
  });
  // As ml-service: the checks a search makes before it searches. The stand-in's stocks are all filed
  // under market "US", sector "Energy".
  app.post('/v1/similar/check', (req, res) => {
    const p = similarRequestSchema.safeParse(req.body);
    if (!p.success)
      return res.status(400).json({ error: { code: 'invalid_request', message: 'bad similar request' } });
    const { query, filters } = p.data;
    if ('code' in query && !data[query.code])
      return res.status(404).json({ error: { code: 'unknown_code', message: `unknown code ${query.code}` } });
    for (const [field, value, known] of [
      ['market', filters?.market, 'US'],
      ['sector', filters?.sector, 'Energy'],
    ] as const) {
      if (value !== undefined && value !== known)
        return res.status(400).json({
          error: {
            code: 'unknown_filter',
            message: `filters.${field}: no stock is filed under ${JSON.stringify(value)}`,
            details: { field, value, allowed: [known] },
          },
        });
    }
    res.status(204).end();
  });
  app.post('/v1/similar', (req, res) => {
    const p = similarRequestSchema.safeParse(req.body);
    if (!p.success)
      return res.status(400).json({ error: { code: 'invalid_request', message: 'bad similar request' } });
    const r = p.data;
    let query: number[];
    let qc: string | null = null;
    if ('code' in r.query) {
      const q = r.query;
      const rows = data[q.code];
      if (!rows)
        return res.status(404).json({ error: { code: 'unknown_code', message: `unknown code ${q.code}` } });
      query = rows.filter((x) => x.date >= q.start && x.date <= q.end).map((x) => x.close);
      qc = q.code;
    } else query = r.query.series;
    const L = query.length;
    const qz = zn(query);
    const matches = [];
    for (const [code, rows] of Object.entries(data)) {
      for (let s = 0; s + L + r.horizon <= rows.length; s += 5) {
        if (code === qc) continue;
        const w = rows.slice(s, s + L).map((x) => x.close);
        const wz = zn(w);
        const distance = Math.sqrt(wz.reduce((a, v, i) => a + (v - qz[i]) ** 2, 0));
        const end = rows[s + L - 1].close;
        const path = rows.slice(s + L, s + L + r.horizon).map((x) => x.close / end);
        matches.push({
          code,
          start: rows[s].date,
          end: rows[s + L - 1].date,
          distance,
          forwardReturn: path.at(-1)! - 1,
          forwardPath: path,
          window: w,
        });
      }
    }
    matches.sort((a, b) => a.distance - b.distance);
    const top = matches.slice(0, r.topK);
    const up = top.filter((m) => (m.forwardReturn ?? 0) > 0).length;
    const rets = top.map((m) => m.forwardReturn!).sort((a, b) => a - b);
    const q = (f: number) => rets[Math.min(rets.length - 1, Math.floor(f * rets.length))];
    const quant = { p10: q(0.1), p25: q(0.25), p50: q(0.5), p75: q(0.75), p90: q(0.9) };
    res.json({
      query: {
        code: qc,
        start: 'code' in r.query ? r.query.start : null,
        end: 'code' in r.query ? r.query.end : null,
        length: L,
        series: query,
      },
      metric: r.metric,
      normalize: r.normalize,
      mode: r.mode,
      timeframe: r.timeframe,
      horizon: r.horizon,
      matches: top,
      forecast: {
        n: top.length,
        horizon: r.horizon,
        mean: rets.reduce((a, b) => a + b, 0) / rets.length,
        median: q(0.5),
        quantiles: quant,
        fan: [],
        pUp: up / top.length,
        baseRateUp: 0.5,
        basis: { kind: 'analogues' as const, n: top.length, trainedTo: null },
        effectiveN: top.length,
        pUpInterval: null,
        verdict: 'too-few' as const,
        pUpCalibrated: null,
        calibratorId: null,
        calibrated: false,
        bands: 'empirical' as const,
      },
      candidates: matches.length,
      dataVersion,
      asOf: asOf(),
      tookMs: 1,
    });
  });
  app.post('/v1/predict', (req, res) => {
    const p = predictRequestSchema.safeParse(req.body);
    if (!p.success)
      return res.status(400).json({ error: { code: 'invalid_request', message: 'bad predict request' } });
    res.json({
      model: p.data.model,
      modelVersion: '1',
      timeframe: p.data.timeframe,
      horizon: p.data.horizon,
      forecast: {
        n: 0,
        horizon: p.data.horizon,
        mean: null,
        median: null,
        quantiles: null,
        fan: [],
        pUp: null,
        baseRateUp: null,
        basis: {
          kind:
            p.data.model === 'brainjs'
              ? 'neural-net'
              : p.data.model === 'baseline'
                ? 'own-history'
                : 'analogues',
          n: 0,
          trainedTo: null,
        },
        effectiveN: 0,
        pUpInterval: null,
        verdict: 'too-few',
        pUpCalibrated: null,
        calibratorId: null,
        calibrated: false,
        bands: 'empirical',
      },
      dataVersion,
      asOf: asOf(),
      tookMs: 1,
    });
  });
  const server: Server = await new Promise((ok) => {
    const s = app.listen(0, '127.0.0.1', () => ok(s));
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    setDown: (d) => (down = d),
    setDataVersion: (v) => (dataVersion = v),
    setSearchDelay: (ms) => (searchDelayMs = ms),
    holdDtw: (on) => {
      holding = on;
      if (!on) {
        const go = releaseAll;
        releaseAll = [];
        for (const f of go) f();
      }
    },
    held: () => ({ now: heldNow, max: heldMax }),
    resetHeld: () => (heldMax = heldNow),
    deadlines,
    close: () =>
      new Promise((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
