/**
 * Match distances are z-normalised Euclidean distances: each window is shifted to mean 0 and scaled to
 * (population) std 1, so both vectors have squared length L, and then d² = 2L(1 − r), where r is the
 * Pearson correlation of the two shapes. Solving for r gives a number people can read: 100 % is the
 * same shape, 0 % no relation (anti-correlated shapes are shown as 0 %). DTW distances are at most the
 * Euclidean one, so the same formula reads them a little generously; it is a guide, not a proof.
 */
export function shapeSimilarity(distance: number, length: number): number | null {
  if (!Number.isFinite(distance) || distance < 0 || !Number.isInteger(length) || length < 2) return null;
  const r = 1 - (distance * distance) / (2 * length);
  return Math.max(0, Math.min(1, r));
}
