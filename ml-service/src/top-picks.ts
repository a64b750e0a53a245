/**
 * Greedy non-overlapping picks and the global top-K they feed.
 *
 * The greedy rule ("ascending distance, skip a window overlapping an already taken window of the same
 * entity") decomposes per entity: overlap only happens within an entity, so the global order restricted
 * to one entity is that entity's own order. Each entity's picks are therefore final once that entity is
 * scanned, and the K-th best of any set of final picks is a valid pruning threshold (tau) for the rest.
 */
export interface Pick {
  entity: number;
  start: number;
  distance: number;
}

export function comparePicks(a: Pick, b: Pick): number {
  return a.distance - b.distance || a.entity - b.entity || a.start - b.start;
}

/**
 * Picks of one entity from its windows with known exact distances. Only picks with distance <= maxDist
 * are returned: a window farther than the pruning threshold may have been dropped, and it could have
 * blocked a farther pick, but never a nearer one.
 */
export function greedyPicks(
  entity: number,
  starts: number[],
  dists: number[],
  L: number,
  K: number,
  maxDist: number,
): Pick[] {
  const order = starts.map((_, i) => i);
  order.sort((i, j) => dists[i]! - dists[j]! || starts[i]! - starts[j]!);
  const taken: Pick[] = [];
  for (const i of order) {
    const d = dists[i]!;
    if (d > maxDist || taken.length >= K) break;
    const s = starts[i]!;
    let overlaps = false;
    for (const p of taken) {
      if (s < p.start + L && p.start < s + L) {
        overlaps = true;
        break;
      }
    }
    if (!overlaps) taken.push({ entity, start: s, distance: d });
  }
  return taken;
}

/** The K best picks so far (sorted array; K <= 100 keeps insertion cheap). */
export class TopK {
  readonly items: Pick[] = [];
  constructor(readonly k: number) {}

  add(p: Pick): void {
    const items = this.items;
    if (items.length >= this.k && comparePicks(p, items[items.length - 1]!) >= 0) return;
    let i = items.length;
    while (i > 0 && comparePicks(p, items[i - 1]!) < 0) i--;
    items.splice(i, 0, p);
    if (items.length > this.k) items.pop();
  }

  /** Distance that any further pick must not exceed to matter (Infinity until K picks exist). */
  threshold(): number {
    return this.items.length >= this.k ? this.items[this.k - 1]!.distance : Infinity;
  }
}

/**
 * Thresholds shared between search workers through a SharedArrayBuffer: each worker publishes the K-th
 * best of its own final picks (a valid bound for everyone), rounded UP to a fixed-point int so Atomics
 * work and the published value never understates the bound.
 */
export class TauBoard {
  static readonly SCALE = 65536;
  static readonly NONE = 0x7fffffff;
  readonly slots: Int32Array;
  constructor(
    buffer: SharedArrayBuffer | null,
    readonly self: number,
    workers: number,
  ) {
    this.slots = buffer ? new Int32Array(buffer) : new Int32Array(workers);
    if (!buffer) this.slots.fill(TauBoard.NONE);
  }

  static createBuffer(workers: number): SharedArrayBuffer {
    const buf = new SharedArrayBuffer(workers * 4);
    new Int32Array(buf).fill(TauBoard.NONE);
    return buf;
  }

  publish(tau: number): void {
    const v = tau * TauBoard.SCALE;
    const q = Number.isFinite(v) && v < TauBoard.NONE - 1 ? Math.ceil(v) + 1 : TauBoard.NONE;
    Atomics.store(this.slots, this.self, q);
  }

  /** The smallest bound published by another worker. */
  others(): number {
    let best = TauBoard.NONE;
    for (let i = 0; i < this.slots.length; i++) {
      if (i === this.self) continue;
      const v = Atomics.load(this.slots, i);
      if (v < best) best = v;
    }
    return best === TauBoard.NONE ? Infinity : best / TauBoard.SCALE;
  }
}
