/**
 * Search workers over shards of the plan. The market arrays live in SharedArrayBuffers, so posting them
 * shares memory instead of copying; workers exchange pruning thresholds through a shared TauBoard.
 */
import type { Worker } from 'node:worker_threads';
import { AppError } from './errors.js';
import { releaseSlotsOf } from './ed-prefilter.js';
import type { MarketWasm } from './market-memory.js';
import type { MarketArrays } from './market-data.js';
import { scanShard, type ScanResult, type ScanSpec } from './scan.js';
import type { SearchReply, SearchTask } from './search.worker.js';
import type { Plan } from './search-plan.js';
import type { ShardRunner } from './similarity.service.js';
import { TauBoard } from './top-picks.js';
import { startTsWorker } from './ts-worker.js';

interface Slot {
  worker: Worker;
  /** Resolves once the worker has loaded its code (tsx compiles it first: seconds on a busy machine). */
  ready: Promise<void>;
  pending: Map<number, { resolve: (r: ScanResult) => void; reject: (e: Error) => void }>;
}

/** By default, searches over at least this many candidate windows are split across all workers. */
const SPLIT_ABOVE = 2_000_000;

export class SearchPool {
  private slots: Slot[] = [];
  private nextId = 1;
  private turn = 0;
  /** The market memory of the latest search, whose slots a dead worker must give back. */
  private lastWasm: MarketWasm | null = null;
  private closed = false;

  /**
   * @param timeoutMs a search still running after this long is stopped (its workers are replaced) and
   *   answered with 504, so one huge DTW scan cannot hold the pool for everyone; 0 = no limit.
   * @param splitAbove searches over fewer candidate windows run on one worker (the least busy).
   */
  constructor(
    readonly size: number,
    readonly timeoutMs = 0,
    readonly splitAbove = SPLIT_ABOVE,
  ) {
    for (let i = 0; i < size; i++) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    const worker = startTsWorker(new URL('./search.worker.ts', import.meta.url));
    let markReady = () => {};
    const slot: Slot = { worker, ready: new Promise((r) => (markReady = r)), pending: new Map() };
    slot.worker.on('message', (m: SearchReply) => {
      if ('ready' in m) return markReady();
      const p = slot.pending.get(m.id);
      if (!p) return;
      slot.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(`search worker failed: ${m.message}`));
    });
    const fail = (err: Error) => {
      markReady();
      for (const p of slot.pending.values()) p.reject(err);
      slot.pending.clear();
      if (this.closed) return;
      // A crashed worker is replaced so one bad request never takes search down.
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots[i] = this.spawn();
    };
    slot.worker.on('error', fail);
    const thread = worker.threadId;
    slot.worker.on('exit', (code) => {
      // Its WASM slot in the serving market goes back to the pool of slots (32 per market).
      releaseSlotsOf(this.lastWasm, thread);
      if (!this.closed) fail(new Error(`search worker exited with code ${code}`));
    });
    return slot;
  }

  /** A ShardRunner over the given arrays (the data snapshot of one request). */
  runner(arrays: MarketArrays): ShardRunner {
    return (spec: ScanSpec, plan: Plan) => {
      if (this.size === 0) {
        return Promise.resolve([scanShard(arrays, spec, plan, new TauBoard(null, 0, 1), 0, 1)]);
      }
      this.lastWasm = arrays.wasm;
      const tau = TauBoard.createBuffer(this.size);
      const { offsets, closes, days, sum1, sum2, center, spread, flatRuns, flatOffsets, wasm } = arrays;
      const shared: MarketArrays = {
        offsets,
        closes,
        days,
        sum1,
        sum2,
        center,
        spread,
        flatRuns,
        flatOffsets,
        wasm,
      };
      // A small search is not worth splitting: one worker answers it while the others take other
      // requests, which is what matters under concurrent load (the demo data is 0.6 M windows).
      let windows = 0;
      for (let k = 0; k < plan.length; k += 3) windows += plan[k + 2]! - plan[k + 1]!;
      const used = windows < this.splitAbove ? [this.leastBusy()] : [...this.slots];
      // The time limit starts once the workers are up, so a freshly respawned pool is not timed out.
      return Promise.all(used.map((slot) => slot.ready)).then(() =>
        this.dispatch(used, shared, spec, plan, tau),
      );
    };
  }

  private dispatch(
    used: Slot[],
    shared: MarketArrays,
    spec: ScanSpec,
    plan: Plan,
    tau: SharedArrayBuffer,
  ): Promise<ScanResult[]> {
    const all = Promise.all(
      used.map(
        (slot, shard) =>
          new Promise<ScanResult>((resolve, reject) => {
            if (!this.slots.includes(slot)) {
              reject(
                new AppError(503, 'search_restarting', 'a search worker was restarting; retry the request'),
              );
              return;
            }
            const id = this.nextId++;
            slot.pending.set(id, { resolve, reject });
            const task: SearchTask = { id, arrays: shared, spec, plan, tau, shard, shards: used.length };
            slot.worker.postMessage(task);
          }),
      ),
    );
    if (!this.timeoutMs) return all;
    return new Promise<ScanResult[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new AppError(
            504,
            'search_timeout',
            `the search took longer than ${this.timeoutMs} ms and was stopped`,
          ),
        );
        // Searches queued behind it on these workers fail too; the exit handler respawns the workers.
        for (const slot of used) void slot.worker.terminate();
      }, this.timeoutMs);
      all.then(
        (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }

  private leastBusy(): Slot {
    let best = this.slots[this.turn++ % this.slots.length]!;
    for (const slot of this.slots) if (slot.pending.size < best.pending.size) best = slot;
    return best;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
