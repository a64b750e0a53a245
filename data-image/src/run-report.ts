import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RUNS_DIR, runReportSchema, type RunReport } from '@resemble/contracts';

export interface ReportVerdict {
  file: string;
  report: RunReport;
  ok: boolean;
  reasons: string[];
}

/** The newest run report of a store (by startedAt, then file name), parsed against the contract. */
export function latestRunReport(dataDir: string): { file: string; report: RunReport } {
  const dir = join(dataDir, RUNS_DIR);
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json') && !n.startsWith('.'));
  } catch {
    throw new Error(`${dir}: no run reports (did the scraper run?)`);
  }
  if (names.length === 0) throw new Error(`${dir}: no run reports (did the scraper run?)`);
  const parsed = names.map((name) => {
    const result = runReportSchema.safeParse(JSON.parse(readFileSync(join(dir, name), 'utf8')));
    if (!result.success) {
      throw new Error(
        `${RUNS_DIR}/${name}: not a valid run report: ${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    }
    return { file: name, report: result.data };
  });
  parsed.sort((a, b) => (a.report.startedAt + a.file < b.report.startedAt + b.file ? 1 : -1));
  return parsed[0];
}

/**
 * Whether a scrape run is good enough to publish: the report must be complete, and no more than
 * `maxFailedRatio` of the attempted stocks may have failed (a partial day still beats yesterday's data;
 * a broken source does not).
 */
export function assessRunReport(
  file: string,
  report: RunReport,
  maxFailedRatio: number,
  maxAgeHours?: number,
  now = new Date(),
): ReportVerdict {
  const reasons: string[] = [];
  const attempted = report.ok.length + report.failed.length;
  if (attempted === 0) reasons.push('no stock was attempted');
  const failedRatio = attempted === 0 ? 1 : report.failed.length / attempted;
  if (failedRatio > maxFailedRatio) {
    reasons.push(
      `${report.failed.length} of ${attempted} stocks failed (${(failedRatio * 100).toFixed(1)} % > ${(maxFailedRatio * 100).toFixed(1)} %)`,
    );
  }
  if (Date.parse(report.finishedAt) < Date.parse(report.startedAt))
    reasons.push('finishedAt is before startedAt');
  if (maxAgeHours !== undefined) {
    const ageHours = (now.getTime() - Date.parse(report.finishedAt)) / 3_600_000;
    if (!(ageHours <= maxAgeHours))
      reasons.push(
        `the newest report finished ${ageHours.toFixed(1)} h ago (limit ${maxAgeHours} h): the scraper did not write a new one`,
      );
  }
  return { file, report, ok: reasons.length === 0, reasons };
}
