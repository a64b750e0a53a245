/** Polls ml-service's data version; each new version triggers one pattern scan. */
import type { AppContext } from '../context.js';
import { scanPatterns } from './patterns.service.js';

export class AlertScanner {
  private timer?: NodeJS.Timeout;
  private lastVersion: string | null = null;
  private busy = false;

  constructor(private readonly ctx: AppContext) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.ctx.config.alerts.pollSeconds * 1000);
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
      const health = await this.ctx.ml.health();
      if (health.status !== 'ready' || !health.dataVersion || health.dataVersion === this.lastVersion)
        return null;
      const r = await scanPatterns(this.ctx, health.dataVersion);
      this.lastVersion = health.dataVersion;
      this.ctx.log.info({ dataVersion: health.dataVersion, ...r }, 'pattern scan done');
      return { dataVersion: health.dataVersion, ...r };
    } catch (err) {
      this.ctx.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'alert poll failed');
      return null;
    } finally {
      this.busy = false;
    }
  }
}
