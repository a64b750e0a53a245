import type { RowTuple } from './entity-file.js';
import type { RowInput } from './validate.js';

export type StoredOrNew = RowInput | RowTuple;

export interface RowDiff {
  added: number;
  updated: number;
  unchanged: number;
  removed: number;
  /** The new raw history, sorted by date. */
  rows: StoredOrNew[];
}

export function dateOf(r: StoredOrNew): string {
  return Array.isArray(r) ? r[0] : r.date;
}

/**
 * Merge-walk of the stored rows and the validated incoming rows (both sorted by date, unique):
 * merge keeps stored dates the batch does not mention, replace drops them.
 */
export function diffRows(
  stored: readonly RowTuple[],
  incoming: readonly RowInput[],
  mode: 'merge' | 'replace',
): RowDiff {
  const rows: StoredOrNew[] = [];
  let added = 0;
  let updated = 0;
  let unchanged = 0;
  let removed = 0;
  let i = 0;
  let j = 0;
  while (i < stored.length || j < incoming.length) {
    if (j >= incoming.length || (i < stored.length && stored[i][0] < incoming[j].date)) {
      if (mode === 'merge') rows.push(stored[i]);
      else removed++;
      i++;
    } else if (i >= stored.length || incoming[j].date < stored[i][0]) {
      rows.push(incoming[j]);
      added++;
      j++;
    } else {
      const s = stored[i];
      const n = incoming[j];
      if (s[1] === n.open && s[2] === n.high && s[3] === n.low && s[4] === n.close && s[5] === n.volume)
        unchanged++;
      else updated++;
      rows.push(n);
      i++;
      j++;
    }
  }
  return { added, updated, unchanged, removed, rows };
}
