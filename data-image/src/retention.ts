/** Tags the daily pipeline gives data images: `<last date>-<data version prefix>` (see imageVersion). */
export const DATA_TAG_PATTERN = /^\d{4}-\d{2}-\d{2}-[A-Za-z0-9_.-]+$/;

export interface RetentionInput {
  /** Every tag of the repository with the manifest digest it points to. */
  tags: Map<string, string>;
  /** How many of the newest data tags to keep (back-out targets). */
  keep: number;
  /** Tags that must survive whatever their age (e.g. `latest`, the deployed one). */
  protect: string[];
}

/**
 * Which tags to delete. Registries delete manifests, not tags: deleting a tag removes every tag that
 * points at the same digest, so a tag sharing its digest with a kept or protected one is never chosen.
 * Tags that are not data tags are left alone.
 */
export function tagsToDelete({ tags, keep, protect }: RetentionInput): string[] {
  if (!Number.isInteger(keep) || keep < 1) throw new Error(`keep must be a positive integer (got ${keep})`);
  const dataTags = [...tags.keys()]
    .filter((t) => DATA_TAG_PATTERN.test(t))
    .sort()
    .reverse();
  const kept = new Set([...dataTags.slice(0, keep), ...protect.filter((t) => tags.has(t))]);
  const keptDigests = new Set([...kept].map((t) => tags.get(t)));
  return dataTags
    .slice(keep)
    .filter((t) => !kept.has(t) && !keptDigests.has(tags.get(t)))
    .sort();
}
