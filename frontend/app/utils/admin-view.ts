/**
 * The operator page's "Last scraper run" card, read together with the data-sources table: a run that
 * succeeded says OK only when its source's data is current. A successful run whose data is behind (an old
 * run, a source that stopped) says STALE like the table does, so the two never disagree.
 */
export type RunStatus = 'ok' | 'stale' | 'failed';

export function lastRunStatus(
  run: { source: string; success: boolean },
  sources: readonly { source: string; stale: boolean }[],
): RunStatus {
  if (!run.success) return 'failed';
  return sources.some((s) => s.source === run.source && s.stale) ? 'stale' : 'ok';
}
