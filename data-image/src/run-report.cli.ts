/**
 * Gate of the daily pipeline between scraping and building the data image:
 *   npm run check-report -w data-image -- --data DIR [--max-failed-ratio 0.05] [--max-age-hours 6]
 * Exit 0: publishable; 1: the run is not good enough (reasons printed); 2: bad usage.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { assessRunReport, latestRunReport } from './run-report.js';

const argsSchema = z.object({
  data: z.string({ error: '--data DIR is required' }).min(1),
  'max-failed-ratio': z.coerce.number().min(0).max(1).default(0.05),
  'max-age-hours': z.coerce.number().positive().optional(),
});

function main(): number {
  let args;
  try {
    const { values } = parseArgs({
      options: {
        data: { type: 'string' },
        'max-failed-ratio': { type: 'string' },
        'max-age-hours': { type: 'string' },
      },
      strict: true,
    });
    args = argsSchema.parse(values);
  } catch (err) {
    const message =
      err instanceof z.ZodError
        ? err.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('\n')
        : (err as Error).message;
    console.error(
      `${message}\nusage: npm run check-report -w data-image -- --data DIR [--max-failed-ratio R] [--max-age-hours H]`,
    );
    return 2;
  }
  try {
    const { file, report } = latestRunReport(args.data);
    const verdict = assessRunReport(file, report, args['max-failed-ratio'], args['max-age-hours']);
    const summary = `${file}: ${report.ok.length} ok, ${report.failed.length} failed, ${report.skipped.length} skipped, ${report.rowsAdded} rows added, ${report.rowsRejected.length} rejected`;
    if (verdict.ok) {
      console.log(`run report OK: ${summary}`);
      return 0;
    }
    console.error(`run report NOT publishable: ${summary}\n  - ${verdict.reasons.join('\n  - ')}`);
    for (const f of report.failed.slice(0, 20)) console.error(`    failed ${f.code}: ${f.reason}`);
    return 1;
  } catch (err) {
    console.error((err as Error).message);
    return 1;
  }
}

process.exitCode = main();
