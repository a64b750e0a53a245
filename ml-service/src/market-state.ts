/**
 * The data the service answers from, and its reloads without downtime: new data is loaded beside the old
 * (in a worker, so requests keep being served), validated by the loader, then swapped in one assignment.
 * Invalid new data leaves the old data serving and is reported in /health as lastReloadError.
 */
import type { Logger } from 'pino';
import { loadMarketData, readDataVersion, type MarketData } from './market-data.js';
import type { Metrics } from './metrics.js';
import { startTsWorker } from './ts-worker.js';

export type LoadFn = (dataDir: string) => Promise<MarketData>;

/** Loads in a worker thread; the arrays come back as SharedArrayBuffers (no copy). */
export const loadInWorker: LoadFn = (dataDir) =>
  new Promise((resolve, reject) => {
    const worker = startTsWorker(new URL('./load.worker.ts', import.meta.url), { workerData: { dataDir } });
    let settled = false;
    worker.once('message', (m: { ok: true; data: MarketData } | { ok: false; message: string }) => {
      settled = true;
      if (m.ok) resolve(m.data);
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

export const loadInProcess: LoadFn = (dataDir) => Promise.resolve().then(() => loadMarketData(dataDir));

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
      const next = await this.load(this.dataDir);
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
          ms: Math.round(performance.now() - started),
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
