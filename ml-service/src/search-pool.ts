/**
 * Search workers over shards of the plan. The market arrays live in SharedArrayBuffers, so posting them
 * shares memory instead of copying; workers exchange pruning thresholds through a shared TauBoard.
 */
import type { Worker } from 'node:worker_threads';
import { barArrays } from './bars.js';
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
  isReady: boolean;
  /** What the worker holds, by task id (a worker runs its tasks in id order). */
  pending: Map<number, { resolve: (r: ScanResult) => void; reject: (e: Error) => void; job?: Queued }>;
}

/** A one-worker search waiting in the pool's queue for a worker with room. */
interface Queued {
  task: Omit<SearchTask, 'id'>;
  resolve: (r: ScanResult) => void;
  reject: (e: Error) => void;
  /** Set once a worker has it. */
  slot: Slot | null;
  settled: boolean;
  /** The time limit, running from when its worker starts it. */
  timer: NodeJS.Timeout | undefined;
}

/**
 * One-worker searches a worker holds at once: the one it runs and the next, so it never idles while the
 * main thread is busy answering, yet a slow search delays at most one other. (Handing each search to a
 * worker on arrival let a run of long queries pile up behind one worker while the other sat idle.)
 */
const HELD_PER_WORKER = 2;

/** By default, searches over at least this many candidate windows are split across all workers. */
const SPLIT_ABOVE = 2_000_000;
const DTW_SPLIT_WEIGHT = 16;

export class SearchPool {
  private slots: Slot[] = [];
  private nextId = 1;
  /**
   * The market memories of the latest searches, whose slots a dead worker must give back: one per
   * timeframe in use, as a worker holds a slot in the memory it searched last, whichever that was.
   */
  private recentWasm: MarketWasm[] = [];
  private closed = false;
  /** One-worker searches in arrival order, not yet handed to a worker. */
  private queue: Queued[] = [];

  /**
   * @param timeoutMs a search still running after this long is stopped (its workers are replaced) and
   *   answered with 504, so one huge DTW scan cannot hold the pool for everyone; 0 = no limit.
   * @param splitAbove searches over fewer candidate windows run on one worker (through the queue).
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
    const slot: Slot = {
      worker,
      ready: new Promise((r) => (markReady = r)),
      isReady: false,
      pending: new Map(),
    };
    slot.ready.then(() => {
      slot.isReady = true;
      this.pump();
    });
    slot.worker.on('message', (m: SearchReply) => {
      if ('ready' in m) return markReady();
      const p = slot.pending.get(m.id);
      if (!p) return;
      slot.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(`search worker failed: ${m.message}`));
      this.startClock(slot);
      this.pump();
    });
    const fail = (err: Error) => {
      markReady();
      // The first task it held was running (a worker takes its messages in order, and `pending` keeps
      // them in that order): that one fails. The one-worker searches behind it did nothing wrong and go
      // back to the front of the queue.
      const held = [...slot.pending.values()];
      slot.pending.clear();
      const again: Queued[] = [];
      held.forEach((p, i) => {
        if (i > 0 && p.job && !p.job.settled && !this.closed) {
          clearTimeout(p.job.timer);
          p.job.timer = undefined;
          p.job.slot = null;
          again.push(p.job);
        } else p.reject(err);
      });
      this.queue.unshift(...again);
      if (this.closed) return;
      // A crashed worker is replaced so one bad request never takes search down.
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots[i] = this.spawn();
      this.pump();
    };
    slot.worker.on('error', fail);
    const thread = worker.threadId;
    slot.worker.on('exit', (code) => {
      // Its WASM slot in the serving market goes back to the pool of slots (32 per market).
      for (const wasm of this.recentWasm) releaseSlotsOf(wasm, thread);
      if (!this.closed) fail(new Error(`search worker exited with code ${code}`));
    });
    return slot;
  }

  /**
   * A ShardRunner over the given daily arrays (the data snapshot of one request): each search scans
   * their bars of its spec's timeframe (bars.ts), resampled once per data version and shared like them.
   */
  runner(daily: MarketArrays): ShardRunner {
    return (spec: ScanSpec, plan: Plan) => {
      const arrays = barArrays(daily, spec.timeframe);
      if (this.size === 0) {
        return Promise.resolve([scanShard(arrays, spec, plan, new TauBoard(null, 0, 1), 0, 1)]);
      }
      this.rememberWasm(arrays.wasm);
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
      // A DTW window costs tens of ED windows (its cascade, and a DTW for the survivors): weighted, a DTW
      // search over the demo's 0.6 M windows uses every worker (measured L=250 top-100: one worker ~1.3 s CPU).
      if (windows * (spec.metric === 'dtw' ? DTW_SPLIT_WEIGHT : 1) < this.splitAbove)
        return this.enqueue({ arrays: shared, spec, plan, tau, shard: 0, shards: 1 });
      const used = [...this.slots];
      // The time limit starts once the workers are up, so a freshly respawned pool is not timed out.
      return Promise.all(used.map((slot) => slot.ready)).then(() =>
        this.dispatch(used, shared, spec, plan, tau),
      );
    };
  }

  /** Keeps `wasm` among the recent memories (the daily, weekly and monthly ones of the serving data). */
  private rememberWasm(wasm: MarketWasm | null): void {
    if (!wasm) return;
    this.recentWasm = [wasm, ...this.recentWasm.filter((w) => w !== wasm)].slice(0, 3);
  }

  /** A one-worker search: queued in arrival order, run by the first worker with room. */
  private enqueue(task: Omit<SearchTask, 'id'>): Promise<ScanResult[]> {
    return new Promise<ScanResult[]>((resolve, reject) => {
      const job: Queued = {
        task,
        resolve: (r) => {
          if (job.settled) return;
          job.settled = true;
          clearTimeout(job.timer);
          resolve([r]);
        },
        reject: (e) => {
          if (job.settled) return;
          job.settled = true;
          clearTimeout(job.timer);
          reject(e);
        },
        slot: null,
        settled: false,
        timer: undefined,
      };
      this.queue.push(job);
      this.pump();
    });
  }

  /**
   * Starts the time limit of the search its worker runs now (the first it holds: a worker takes its
   * messages in order). The limit is on running, so a search is never stopped for the queue it waited in.
   */
  private startClock(slot: Slot): void {
    if (!this.timeoutMs) return;
    const first = slot.pending.values().next().value;
    const job = first?.job;
    if (!job || job.timer !== undefined || job.settled) return;
    job.timer = setTimeout(() => this.expire(job), this.timeoutMs);
  }

  /** A one-worker search past its time limit: answered 504, and its worker stopped. */
  private expire(job: Queued): void {
    job.reject(this.timedOut());
    const slot = job.slot;
    if (!slot) return;
    const first = slot.pending.values().next().value;
    // Only stopping its worker stops a running search; the exit handler respawns the worker and puts the
    // searches it held behind this one back in the queue.
    if (first?.job === job) void slot.worker.terminate();
  }

  /** Hands queued searches to ready workers with room, the least loaded first. */
  private pump(): void {
    while (this.queue.length > 0 && !this.closed) {
      let best: Slot | null = null;
      for (const slot of this.slots) {
        if (!slot.isReady || slot.pending.size >= HELD_PER_WORKER) continue;
        if (!best || slot.pending.size < best.pending.size) best = slot;
      }
      if (!best) return;
      const job = this.queue.shift()!;
      const id = this.nextId++;
      job.slot = best;
      best.pending.set(id, { resolve: job.resolve, reject: job.reject, job });
      best.worker.postMessage({ id, ...job.task } satisfies SearchTask);
      this.startClock(best);
    }
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
        reject(this.timedOut());
        // The exit handler respawns the workers; one-worker searches they held behind it go back to the
        // queue, other split searches on them fail.
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

  private timedOut(): AppError {
    return new AppError(
      504,
      'search_timeout',
      `the search took longer than ${this.timeoutMs} ms and was stopped`,
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0))
      job.reject(new AppError(503, 'not_ready', 'the search service is shutting down'));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
