import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { RUNS_DIR } from '@resemble/contracts';
import { z } from 'zod';
import { writeFileAtomic } from './atomic-file.js';

/**
 * The state of an unfinished run, rewritten after every stock. A run started again with the same
 * source and stock list picks it up: stocks already done keep their outcome and are not fetched again.
 * Stored as a dotfile without `.json` in runs/, so readers of run reports (`runs/*.json`, the data
 * image's store check) never mistake it for one.
 */
export const checkpointSchema = z.object({
  id: z.string(),
  source: z.string(),
  startedAt: z.string(),
  codes: z.array(z.string()),
  since: z.string().nullable(),
  ok: z.array(z.string()),
  failed: z.array(z.object({ code: z.string(), reason: z.string() })),
  skipped: z.array(z.object({ code: z.string(), reason: z.string() })),
  rowsAdded: z.number().int(),
  rowsRejected: z.array(z.object({ code: z.string(), date: z.string().optional(), reason: z.string() })),
});
export type Checkpoint = z.infer<typeof checkpointSchema>;

export function checkpointPath(dataDir: string, source: string): string {
  return join(dataDir, RUNS_DIR, `.${source}.checkpoint`);
}

/** The unfinished run for this source and stock list, if there is one (a corrupt file is ignored). */
export function loadCheckpoint(
  dataDir: string,
  source: string,
  codes: string[],
  since: string | null,
): Checkpoint | null {
  const path = checkpointPath(dataDir, source);
  if (!existsSync(path)) return null;
  try {
    const cp = checkpointSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
    const same =
      cp.since === since && cp.codes.length === codes.length && cp.codes.every((c, i) => c === codes[i]);
    return same ? cp : null;
  } catch {
    return null;
  }
}

/**
 * Not fsynced: the checkpoint only saves re-fetching. Losing it (or an older copy surviving a power
 * cut) is harmless because every stock's data is committed on its own and re-runs are incremental.
 */
export function saveCheckpoint(dataDir: string, cp: Checkpoint): void {
  writeFileAtomic(checkpointPath(dataDir, cp.source), JSON.stringify(cp), { durable: false });
}

export function clearCheckpoint(dataDir: string, source: string): void {
  rmSync(checkpointPath(dataDir, source), { force: true });
}
