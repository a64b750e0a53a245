/** Reading run reports back (for "is a monthly source due?" and the operator view's last runs). */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RUNS_DIR, runReportSchema, type RunReport } from '@resemble/contracts';

/** The newest successful run of `source`, or null. Unreadable reports are ignored. */
export function lastSuccessfulRun(dataDir: string, source: string): RunReport | null {
  const dir = join(dataDir, RUNS_DIR);
  if (!existsSync(dir)) return null;
  let best: RunReport | null = null;
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('.json') || !f.includes(`-${source}-`)) continue;
    try {
      const r = runReportSchema.parse(JSON.parse(readFileSync(join(dir, f), 'utf8')));
      if (r.source === source && r.success && (!best || r.finishedAt > best.finishedAt)) best = r;
    } catch {
      // A report another version wrote, or a partial file of a crashed writer: not evidence of a run.
    }
  }
  return best;
}
