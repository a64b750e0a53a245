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

  /** Adds p if it ranks among the best k; returns whether it did. */
  add(p: Pick): boolean {
    const items = this.items;
    if (items.length >= this.k && comparePicks(p, items[items.length - 1]!) >= 0) return false;
    let i = items.length;
    while (i > 0 && comparePicks(p, items[i - 1]!) < 0) i--;
    items.splice(i, 0, p);
    if (items.length > this.k) items.pop();
    return true;
  }
}

/**
 * Picks shared between search workers through a SharedArrayBuffer, so each prunes with the K-th best of
 * ALL workers' final picks so far (they come from disjoint entities, so together they are final picks
 * too), not just its own. Each worker publishes its best K distances, rounded UP to fixed-point ints so
 * Atomics work and a published value never understates a pick, under a sequence lock: a reader that sees
 * the sequence odd or changed while copying ignores that worker this time (which only loosens the bound).
 */
export class TauBoard {
  static readonly SCALE = 65536;
  static readonly MAX_K = 100;
  /** Ints per worker: sequence, count, then MAX_K values. */
  static readonly STRIDE = 2 + TauBoard.MAX_K;
  readonly slots: Int32Array;
  private readonly cache: { seq: number; values: number[] }[];
  /** Index of the shared chunk counter (after every worker's picks). */
  private readonly counter: number;
  constructor(
    buffer: SharedArrayBuffer | null,
    readonly self: number,
    readonly workers: number,
  ) {
    this.slots = buffer ? new Int32Array(buffer) : new Int32Array(workers * TauBoard.STRIDE + 1);
    this.cache = Array.from({ length: workers }, () => ({ seq: -1, values: [] }));
    this.counter = this.slots.length - 1;
  }

  static createBuffer(workers: number): SharedArrayBuffer {
    return new SharedArrayBuffer((workers * TauBoard.STRIDE + 1) * 4);
  }

  /** The next chunk of work of this search, shared by all its workers (0, 1, 2, ...). */
  nextChunk(): number {
    return Atomics.add(this.slots, this.counter, 1);
  }

  /** Publishes this worker's best picks (sorted ascending; at most MAX_K are kept). */
  publish(items: readonly Pick[]): void {
    const base = this.self * TauBoard.STRIDE;
    const count = Math.min(items.length, TauBoard.MAX_K);
    const slots = this.slots;
    Atomics.add(slots, base, 1); // odd: writing
    for (let i = 0; i < count; i++) {
      const v = items[i]!.distance * TauBoard.SCALE;
      // Values too large for an int are not published (a shorter list only loosens others' bounds).
      if (!(v < 0x7ffffff0)) {
        Atomics.store(slots, base + 1, i);
        Atomics.add(slots, base, 1);
        return;
      }
      Atomics.store(slots, base + 2 + i, Math.ceil(v) + 1);
    }
    Atomics.store(slots, base + 1, count);
    Atomics.add(slots, base, 1); // even: done
  }

  private othersValues(w: number): number[] {
    const base = w * TauBoard.STRIDE;
    const slots = this.slots;
    const cached = this.cache[w]!;
    const seq = Atomics.load(slots, base);
    if (seq === cached.seq) return cached.values;
    if (seq % 2 === 1) return [];
    const count = Atomics.load(slots, base + 1);
    const values: number[] = [];
    for (let i = 0; i < count; i++) values.push(Atomics.load(slots, base + 2 + i) / TauBoard.SCALE);
    if (Atomics.load(slots, base) !== seq) return [];
    cached.seq = seq;
    cached.values = values;
    return values;
  }

  /** The k-th smallest distance among this worker's picks (`own`, sorted) and everyone else's; or Infinity. */
  bound(own: readonly Pick[], k: number): number {
    if (this.workers === 1) return own.length >= k ? own[k - 1]!.distance : Infinity;
    const lists: number[][] = [];
    for (let w = 0; w < this.workers; w++) {
      if (w === this.self) continue;
      const theirs = this.othersValues(w);
      if (theirs.length > 0) lists.push(theirs);
    }
    if (lists.length === 0) return own.length >= k ? own[k - 1]!.distance : Infinity;
    // A k-step merge of the sorted lists, without building the merged list (this runs once per entity).
    const at = new Array<number>(lists.length).fill(0);
    let i = 0;
    let last = Infinity;
    for (let taken = 0; taken < k; taken++) {
      let best = i < own.length ? own[i]!.distance : Infinity;
      let from = -1;
      for (let l = 0; l < lists.length; l++) {
        const v = at[l]! < lists[l]!.length ? lists[l]![at[l]!]! : Infinity;
        if (v < best) {
          best = v;
          from = l;
        }
      }
      if (best === Infinity) return Infinity;
      if (from < 0) i++;
      else at[from]!++;
      last = best;
    }
    return last;
  }
}
