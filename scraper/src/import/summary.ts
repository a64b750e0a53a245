import type { ImportSummary } from './importer.js';

/** Human-readable end-of-import report (stdout of the CLI). */
export function formatSummary(s: ImportSummary): string {
  const lines = [
    `imported ${s.file} (${s.kind}) in ${(s.durationMs / 1000).toFixed(1)} s`,
    `  entities:        ${s.entities} (${s.entitiesChanged} changed)`,
    `  rows read:       ${s.rowsRead}`,
    `  rows added:      ${s.rowsAdded}`,
    `  rows updated:    ${s.rowsUpdated}`,
    `  rows unchanged:  ${s.rowsUnchanged}`,
    `  rows rejected:   ${s.rowsRejected}`,
  ];
  for (const [reason, n] of Object.entries(s.rejectedByReason).sort((a, b) => b[1] - a[1])) {
    lines.push(`    ${reason}: ${n}`);
  }
  const shown = s.rejectedSamples.slice(0, 10);
  if (shown.length > 0) {
    lines.push('  first rejected rows:');
    for (const r of shown)
      lines.push(`    ${r.ticker || '(empty)'} ${r.date || '(no date)'}: ${r.reason} (${r.detail})`);
  }
  lines.push(
    s.dataVersionAfter === s.dataVersionBefore
      ? `  data version:    ${s.dataVersionAfter.slice(0, 16)} (unchanged)`
      : `  data version:    ${s.dataVersionBefore.slice(0, 16)} -> ${s.dataVersionAfter.slice(0, 16)}`,
  );
  return lines.join('\n');
}
