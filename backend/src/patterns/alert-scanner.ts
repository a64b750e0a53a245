/** Polls ml-service's data version; each new version triggers one pattern scan. */
import type { MlClient } from '../search/ml.client.js';
import { scanPatterns, type ScanDeps } from './patterns.service.js';

export class AlertScanner {
  private timer?: NodeJS.Timeout;
  private lastVersion: string | null = null;
  private busy = false;

  constructor(
    private readonly deps: Omit<ScanDeps, 'ml'> & { ml: ScanDeps['ml'] & Pick<MlClient, 'health'> },
    private readonly pollSeconds: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.pollSeconds * 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** One poll; returns the scan summary when a new version was scanned. */
  async tick(): Promise<{ dataVersion: string; scanned: number; fired: number } | null> {
    if (this.busy) return null;
    this.busy = true;
    try {
      const health = await this.deps.ml.health();
      if (health.status !== 'ready' || !health.dataVersion || health.dataVersion === this.lastVersion)
        return null;
      const r = await scanPatterns(this.deps, health.dataVersion);
      this.lastVersion = health.dataVersion;
      this.deps.log.info({ dataVersion: health.dataVersion, ...r }, 'pattern scan done');
      return { dataVersion: health.dataVersion, ...r };
    } catch (err) {
      this.deps.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'alert poll failed');
      return null;
    } finally {
      this.busy = false;
    }
  }
}
