/**
 * Search workers over shards of the plan. The market arrays live in SharedArrayBuffers, so posting them
 * shares memory instead of copying; workers exchange pruning thresholds through a shared TauBoard.
 */
import type { Worker } from 'node:worker_threads';
import type { MarketArrays } from './market-data.js';
import { scanShard, type ScanResult, type ScanSpec } from './scan.js';
import type { SearchReply, SearchTask } from './search.worker.js';
import type { Plan } from './search-plan.js';
import type { ShardRunner } from './similarity.service.js';
import { TauBoard } from './top-picks.js';
import { startTsWorker } from './ts-worker.js';

interface Slot {
  worker: Worker;
  pending: Map<number, { resolve: (r: ScanResult) => void; reject: (e: Error) => void }>;
}

export class SearchPool {
  private slots: Slot[] = [];
  private nextId = 1;
  private closed = false;

  constructor(readonly size: number) {
    for (let i = 0; i < size; i++) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    const slot: Slot = {
      worker: startTsWorker(new URL('./search.worker.ts', import.meta.url)),
      pending: new Map(),
    };
    slot.worker.on('message', (m: SearchReply) => {
      const p = slot.pending.get(m.id);
      if (!p) return;
      slot.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(`search worker failed: ${m.message}`));
    });
    const fail = (err: Error) => {
      for (const p of slot.pending.values()) p.reject(err);
      slot.pending.clear();
      if (this.closed) return;
      // A crashed worker is replaced so one bad request never takes search down.
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots[i] = this.spawn();
    };
    slot.worker.on('error', fail);
    slot.worker.on('exit', (code) => {
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
      const tau = TauBoard.createBuffer(this.size);
      const { offsets, closes, days, sum1, sum2, center, spread, flatRuns, flatOffsets } = arrays;
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
      };
      return Promise.all(
        this.slots.map(
          (slot, shard) =>
            new Promise<ScanResult>((resolve, reject) => {
              const id = this.nextId++;
              slot.pending.set(id, { resolve, reject });
              const task: SearchTask = { id, arrays: shared, spec, plan, tau, shard, shards: this.size };
              slot.worker.postMessage(task);
            }),
        ),
      );
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
