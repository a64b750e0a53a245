/**
 * The data the service answers from, and its reloads without downtime: new data is loaded beside the old
 * (in a worker, so requests keep being served), validated by the loader, then swapped in one assignment.
 * Invalid new data leaves the old data serving and is reported in /health as lastReloadError.
 */
import type { Logger } from 'pino';
import {
  allocate,
  assemble,
  finishFlatRuns,
  loadMarketData,
  readCatalog,
  readDataVersion,
  refusal,
  withoutEntities,
  type BadEntity,
  type Catalog,
  type MarketData,
} from './market-data.js';
import { marketOf } from './bars.js';
import type { LoadReply, LoadTask } from './load.worker.js';
import { cacheFile, cacheKey, cacheUsable, writeCache } from './market-cache.js';
import { mkdir } from 'node:fs/promises';
import type { Metrics } from '../metrics.js';
import { startTsWorker } from '../ts-worker.js';

/**
 * Loads the store. `skipBad` (at start, when nothing serves yet): entities whose files cannot be read or
 * fail their sha256 are left out and listed in `skipped`; without it (a reload) any bad entity refuses
 * the whole new version, so the old one keeps serving.
 */
export type LoadFn = (dataDir: string, opts?: { skipBad?: boolean }) => Promise<MarketData>;

/** A loader that writes its snapshot in the background; flush() resolves once the last write is done. */
export type SnapshotLoadFn = LoadFn & { flush(): Promise<void> };

/**
 * Loads with worker threads, each filling a contiguous slice of entities (balanced by rows) straight into
 * the shared arrays, so the main thread keeps answering requests and both cores read files.
 */
export function loadInWorkers(threads = 2, cacheDir: string | null = null, log?: Logger): SnapshotLoadFn {
  let writing: Promise<void> = Promise.resolve();
  const load: LoadFn = async (dataDir, opts = {}) => {
    const full = readCatalog(dataDir);
    const key = cacheDir ? cacheKey(dataDir, full) : null;
    const points = full.rows.reduce((s, r) => s + r.row_count, 0);
    const cache =
      cacheDir && key && cacheUsable(cacheFile(cacheDir, key), points) ? cacheFile(cacheDir, key) : null;
    const first = await readAll(dataDir, full, cache, log);
    const { bad, fromSnapshot } = first;
    let { arrays, parts } = first;
    let catalog: Catalog = full;
    if (bad.length > 0) {
      if (!opts.skipBad) throw refusal(full, bad);
      log?.error({ skipped: bad }, 'entity files failed their checks; serving the others without them');
      // The others again, into arrays sized for them only (a file going bad between the two reads:
      // refused, as the load cannot settle).
      catalog = withoutEntities(full, bad);
      const again = await readAll(dataDir, catalog, null, log);
      if (again.bad.length > 0) throw refusal(catalog, again.bad);
      ({ arrays, parts } = again);
    }
    const data = assemble(dataDir, catalog, finishFlatRuns(arrays, parts.flat()), bad);
    if (cacheDir && key && !cache && bad.length === 0) {
      // In the background and best effort: the data serves now, and a failed snapshot only means the next
      // start reads the store again.
      const dir = cacheDir;
      writing = writing
        .then(() => mkdir(dir, { recursive: true }))
        .then(() => writeCache(dir, key, data))
        .catch((err: unknown) => log?.warn({ err, cacheDir: dir }, 'could not write the market snapshot'));
    }
    log?.info({ fromSnapshot }, 'market data read');
    return data;
  };
  /** Every entity of the catalog into fresh shared arrays, in `threads` slices balanced by rows. */
  async function readAll(dataDir: string, catalog: Catalog, cache: string | null, log?: Logger) {
    const arrays = allocate(catalog.rows);
    const codes = catalog.rows.map((r) => r.code);
    const sha256 = catalog.rows.map((r) => r.sha256);
    const total = arrays.offsets[codes.length]!;
    const slices: [number, number][] = [];
    let from = 0;
    for (let k = 1; k <= threads; k++) {
      let to = from;
      while (to < codes.length && (k === threads || arrays.offsets[to]! < (total * k) / threads)) to++;
      slices.push([from, to]);
      from = to;
    }
    const fill = (snapshot: string | null) =>
      Promise.all(
        slices.map(([a, b]) =>
          runLoadWorker({ dataDir, codes, arrays, from: a, to: b, cache: snapshot, sha256 }),
        ),
      );
    let replies: { runs: number[][]; bad: BadEntity[] }[];
    let fromSnapshot = cache !== null;
    try {
      replies = await fill(cache);
    } catch (err) {
      if (!cache) throw err;
      // The snapshot vanished or broke under us (another instance replaced it): read the store instead.
      log?.warn({ err }, 'market snapshot unreadable; reading the store');
      fromSnapshot = false;
      replies = await fill(null);
    }
    return {
      arrays,
      parts: replies.map((r) => r.runs),
      bad: replies.flatMap((r) => r.bad),
      fromSnapshot,
    };
  }
  return Object.assign(load, { flush: () => writing });
}

function runLoadWorker(task: LoadTask): Promise<{ runs: number[][]; bad: BadEntity[] }> {
  return new Promise((resolve, reject) => {
    const worker = startTsWorker(new URL('./load.worker.ts', import.meta.url), { workerData: task });
    let settled = false;
    worker.once('message', (m: LoadReply) => {
      settled = true;
      if (m.ok) resolve(m);
      else reject(new Error(m.message));
      void worker.terminate();
    });
    worker.once('error', (err) => {
      if (!settled) reject(err);
      settled = true;
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`loader exited with code ${code}`));
    });
  });
}

export const loadInWorker: LoadFn = loadInWorkers(2);

export const loadInProcess: LoadFn = (dataDir, opts = {}) =>
  Promise.resolve().then(() => loadMarketData(dataDir, opts));

export class MarketState {
  data: MarketData | null = null;
  status: 'loading' | 'ready' | 'error' = 'loading';
  lastReloadError: string | null = null;
  private loading: Promise<void> | null = null;
  private failedVersion: string | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    readonly dataDir: string,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    private readonly load: LoadFn = loadInWorker,
  ) {}

  /** Loads (or reloads) now; concurrent calls share one load. Never throws. */
  reload(reason: string): Promise<void> {
    if (this.loading) return this.loading;
    this.loading = this.doReload(reason).finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  private async doReload(reason: string): Promise<void> {
    const started = performance.now();
    let version: string | null = null;
    try {
      version = readDataVersion(this.dataDir);
      // At start a bad entity file is left out and the rest serve; on a reload it refuses the new version.
      const next = await this.load(this.dataDir, { skipBad: this.data === null });
      // Weekly and monthly bars are resampled now, before the swap, so no search on them pays for it.
      const barsStarted = performance.now();
      for (const tf of ['W', 'M'] as const) marketOf(next, tf);
      const barsMs = Math.round(performance.now() - barsStarted);
      this.data = next;
      this.status = 'ready';
      this.lastReloadError = null;
      this.failedVersion = null;
      this.metrics.dataPoints.set(next.points);
      this.metrics.dataEntities.set(next.entities);
      this.metrics.reloads.inc({ outcome: 'ok' });
      this.log.info(
        {
          reason,
          dataVersion: next.dataVersion,
          entities: next.entities,
          points: next.points,
          skipped: next.skipped?.length ?? 0,
          ms: Math.round(performance.now() - started),
          barsMs,
        },
        'market data loaded',
      );
    } catch (err) {
      this.failedVersion = version;
      this.lastReloadError = `${new Date().toISOString()} ${(err as Error).message}`;
      if (!this.data) this.status = 'error';
      this.metrics.reloads.inc({ outcome: 'failed' });
      this.log.error({ reason, err, keptVersion: this.data?.dataVersion ?? null }, 'market data load failed');
    }
  }

  /** Reloads when the catalog's data_version differs from the served one (and from the last failed one). */
  async checkVersion(): Promise<void> {
    let version: string;
    try {
      version = readDataVersion(this.dataDir);
    } catch (err) {
      if (!this.data || this.status !== 'ready') return this.reload('retry after failed load');
      this.lastReloadError = `${new Date().toISOString()} cannot read the catalog: ${(err as Error).message}`;
      return;
    }
    if (version !== this.data?.dataVersion && version !== this.failedVersion) {
      await this.reload(`data_version changed to ${version}`);
    }
  }

  startPolling(intervalMs: number): void {
    if (intervalMs <= 0) return;
    this.timer = setInterval(() => void this.checkVersion(), intervalMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.loading;
  }
}
