/**
 * Search workers over shards of the plan. The market arrays live in SharedArrayBuffers, so posting them
 * shares memory instead of copying; workers exchange pruning thresholds through a shared TauBoard.
 *
 * Admission by cost: a search's cost is its candidate windows × L × the metric's work per cell (1 for
 * zned, the 2·band+1 cells of a DTW row). Searches at or above `heavyCost` go to the heavy lane.
 *
 * The heavy lane has threads of its own (decision 122): `heavyThreads` workers (one per core by default)
 * beside the `size` ordinary ones, at a nice value 9 above theirs. A heavy search is split over all of
 * them, so it uses every core the machine leaves idle, while an ordinary search arriving meanwhile still
 * finds its own worker free and the kernel's scheduler gives that worker ~88 % of a core against a heavy
 * thread (CFS weights of nice n and n + 9). Heavy searches run one at a time, in arrival order.
 * With `heavyThreads: 0` the lane borrows ordinary workers instead, as decision 079 built it: at most
 * `heavyWorkers` of them (all but one by default) hold heavy searches, one worker per search.
 *
 * Every search can be cancelled: the pool sets its shared control word and its workers stop before their
 * next entity (scan.ts), or inside a DTW kernel call (dtw-search.ts), then take the next search.
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { barArrays } from '../market/bars.js';
import { AppError } from '../errors.js';
import { releaseSlotsOf } from '../kernels/ed-prefilter.js';
import type { MarketWasm } from '../market/market-memory.js';
import type { MarketArrays } from '../market/market-data.js';
import { scanShard, type ScanResult, type ScanSpec } from './scan.js';
import type { SearchReply, SearchTask, WorkerLane } from './search.worker.js';
import type { Plan } from './search-plan.js';
import type { ShardRunner } from './similarity.service.js';
import { TauBoard } from './top-picks.js';
import { startTsWorker } from '../ts-worker.js';

/** How a caller can end a search early. */
export interface SearchControl {
  /** Aborted when the client went away: the search stops between chunks and frees its workers. */
  signal?: AbortSignal;
  /** performance.now() by which the answer is due (the deadline backend sent); past it the search is 504. */
  deadline?: number;
  /** The caller's whole budget in ms, for the message of a 504. */
  budgetMs?: number;
}

export interface PoolOptions {
  /** Searches of at least this cost (windows × L × cells per row) go to the heavy lane. */
  heavyCost?: number;
  /**
   * Threads of the heavy lane's own, below the ordinary workers' priority (default: one per core, from
   * os.availableParallelism()). 0: the heavy lane borrows up to `heavyWorkers` ordinary workers.
   */
  heavyThreads?: number;
  /** With heavyThreads 0: ordinary workers the heavy lane may hold at once (default: all but one). */
  heavyWorkers?: number;
  /**
   * Tests only: while gate[0] is 0, every shard of a heavy search waits before each chunk (see
   * search.worker.ts), so a test can hold heavy searches on their workers and watch the others.
   */
  heavyGate?: Int32Array;
  /**
   * Tests only: a Float64Array(8) over a SharedArrayBuffer the workers' DTW kernels count their stages
   * into (DTW_STAT in dtw-search.ts), live while a call runs, so a test sees where a search's work stopped.
   */
  workCounter?: Float64Array;
  /**
   * How long a cancelled search's workers get to leave it before they are replaced (default 3 s). Tests
   * set it far longer, to show a worker leaves a long DTW call on its own.
   */
  stopGraceMs?: number;
  /** Told of every cancelled search (why) and of the chunks its workers then left unscanned. */
  onCancel?: (reason: CancelReason) => void;
  onAbandoned?: (chunks: number) => void;
}

export type CancelReason = 'client_gone' | 'deadline' | 'time_limit';

/** What the pool is doing now (GET /health). */
export interface PoolStats {
  /** Ordinary workers. */
  workers: number;
  /** Workers a heavy search may run on: its own threads, or the ordinary workers it may borrow. */
  heavyWorkers: number;
  /** 'own': the heavy lane has its own low-priority threads; 'borrowed': it holds ordinary workers. */
  heavyLane: 'own' | 'borrowed';
  /** The nice value each ordinary worker thread reported (null where the platform has none). */
  nice: (number | null)[];
  /** The same for the heavy lane's own threads (empty when it borrows). */
  heavyNice: (number | null)[];
  /** Workers holding a search (ordinary workers and heavy threads). */
  running: number;
  /** Heavy searches running (each on one borrowed worker, or split over all heavy threads). */
  heavyRunning: number;
  queued: number;
  heavyQueued: number;
  cancelled: number;
  abandonedChunks: number;
}

/** A search in the pool: queued, then one or more shards on workers. */
interface Job {
  arrays: MarketArrays;
  spec: ScanSpec;
  plan: Plan;
  tau: SharedArrayBuffer;
  control: Int32Array;
  heavy: boolean;
  /** Wants every eligible worker (a big ordinary search); else one. */
  split: boolean;
  /** The workers holding its shards, once placed. */
  slots: Slot[];
  results: ScanResult[];
  outstanding: number;
  started: boolean;
  settled: boolean;
  resolve: (r: ScanResult[]) => void;
  reject: (e: Error) => void;
  timers: NodeJS.Timeout[];
  unlisten: () => void;
}

interface Slot {
  worker: Worker;
  lane: WorkerLane;
  /** The thread's nice value as it last reported it. */
  nice: number | null;
  /** Resolves once the worker has loaded its code (tsx compiles it first: seconds on a busy machine). */
  ready: Promise<void>;
  isReady: boolean;
  /** The shards it holds, by task id (a worker runs its tasks in id order). */
  pending: Map<number, Job>;
}

/**
 * Ordinary searches a worker holds at once: the one it runs and the next, so it never idles while the
 * main thread is busy answering, yet a slow search delays at most one other.
 */
const HELD_PER_WORKER = 2;

/**
 * By default, ordinary searches of at least this cost are split across workers: zned at L = 60 over
 * 2 M candidate windows. A DTW window costs its band's cells per row more (13 at L = 60, band 10 %), so
 * an ordinary DTW search over the demo's 0.6 M windows uses every worker outside the heavy lane.
 */
const SPLIT_COST = 60 * 2_000_000;

/**
 * Default heavy threshold: DTW at L = 250 (band 10 %) over the 505-stock demo (~0.6 M windows) is
 * 7.7e9; zned at L = 60 over 20 M windows is 1.2e9 and stays ordinary.
 */
export const HEAVY_COST = 5e9;

/**
 * A cancelled search's workers get this long to leave it before they are replaced. They read the control
 * word before each entity and, in a DTW kernel call, about once a millisecond of work, so only a fault
 * lets a worker overstay it; and terminate() cannot stop a thread inside native code anyway.
 */
const STOP_GRACE_MS = 3_000;

/**
 * The one cost of a search (see the file comment): candidate windows × L × the metric's cells per row (1
 * for zned; for DTW the 2·band + 1 cells of a row, the band capped at L - 1 as the kernels cap it). Both
 * admission decisions come from it (admission()): the heavy lane and the split over workers.
 */
export function searchCost(
  spec: Pick<ScanSpec, 'metric' | 'band' | 'qn'>,
  plan: Plan,
): { windows: number; cost: number } {
  let windows = 0;
  for (let k = 0; k < plan.length; k += 3) windows += plan[k + 2]! - plan[k + 1]!;
  const L = spec.qn.length;
  const cells = spec.metric === 'dtw' ? 2 * Math.min(spec.band, L - 1) + 1 : 1;
  return { windows, cost: windows * L * cells };
}

/** Where a search goes: the heavy lane at heavyCost or more, else split over workers at splitCost or more. */
export function admission(
  spec: Pick<ScanSpec, 'metric' | 'band' | 'qn'>,
  plan: Plan,
  heavyCost: number,
  splitCost: number,
): { cost: number; heavy: boolean; split: boolean } {
  const { cost } = searchCost(spec, plan);
  const heavy = cost >= heavyCost;
  return { cost, heavy, split: !heavy && cost >= splitCost };
}

export class SearchPool {
  /** Ordinary workers (with heavyThreads 0, also the heavy lane's). */
  private slots: Slot[] = [];
  /** The heavy lane's own threads. */
  private heavySlots: Slot[] = [];
  private nextId = 1;
  /**
   * The market memories of the latest searches, whose slots a dead worker must give back: one per
   * timeframe in use, as a worker holds a slot in the memory it searched last, whichever that was.
   */
  private recentWasm: MarketWasm[] = [];
  private closed = false;
  private light: Job[] = [];
  private heavy: Job[] = [];
  private cancelledCount = 0;
  private abandonedChunks = 0;
  readonly heavyCost: number;
  readonly heavyWorkers: number;
  readonly heavyThreads: number;

  /**
   * @param timeoutMs a search still running after this long is stopped and answered with 504, so one
   *   huge scan cannot hold a worker for ever; 0 = no limit.
   * @param splitAbove ordinary searches of a lower cost (searchCost) run on one worker.
   */
  constructor(
    readonly size: number,
    readonly timeoutMs = 0,
    readonly splitAbove = SPLIT_COST,
    private readonly opts: PoolOptions = {},
  ) {
    this.heavyCost = opts.heavyCost ?? HEAVY_COST;
    this.heavyThreads = size === 0 ? 0 : (opts.heavyThreads ?? availableParallelism());
    this.heavyWorkers =
      this.heavyThreads > 0 ? this.heavyThreads : Math.max(1, Math.min(size, opts.heavyWorkers ?? size - 1));
    const lane: WorkerLane = this.heavyThreads > 0 ? 'ordinary' : 'mixed';
    for (let i = 0; i < size; i++) this.slots.push(this.spawn(lane));
    for (let i = 0; i < this.heavyThreads; i++) this.heavySlots.push(this.spawn('heavy'));
  }

  stats(): PoolStats {
    const all = [...this.slots, ...this.heavySlots];
    const heavyJobs = new Set<Job>();
    for (const s of all) for (const job of s.pending.values()) if (job.heavy) heavyJobs.add(job);
    return {
      workers: this.size,
      heavyWorkers: this.heavyWorkers,
      heavyLane: this.heavyThreads > 0 ? 'own' : 'borrowed',
      nice: this.slots.map((s) => s.nice),
      heavyNice: this.heavySlots.map((s) => s.nice),
      running: all.filter((s) => s.pending.size > 0).length,
      heavyRunning: heavyJobs.size,
      queued: this.light.length,
      heavyQueued: this.heavy.length,
      cancelled: this.cancelledCount,
      abandonedChunks: this.abandonedChunks,
    };
  }

  private spawn(lane: WorkerLane): Slot {
    const worker = startTsWorker(new URL('./search.worker.ts', import.meta.url), { workerData: { lane } });
    let markReady = () => {};
    const slot: Slot = {
      worker,
      lane,
      nice: null,
      ready: new Promise((r) => (markReady = r)),
      isReady: false,
      pending: new Map(),
    };
    slot.ready.then(() => {
      slot.isReady = true;
      this.pump();
    });
    slot.worker.on('message', (m: SearchReply) => {
      if ('ready' in m) {
        slot.nice = m.nice;
        return markReady();
      }
      slot.nice = m.nice;
      const job = slot.pending.get(m.id);
      if (!job) return;
      slot.pending.delete(m.id);
      if (m.ok) this.shardDone(job, m.result);
      else this.fail(job, new Error(`search worker failed: ${m.message}`));
      this.noteStarted(slot);
      this.pump();
    });
    const fail = (err: Error) => {
      markReady();
      // The first task it held was running (a worker takes its messages in order): that search fails.
      // A one-worker search behind it did nothing wrong and goes back to the front of its queue; a
      // split one cannot finish without this shard.
      const held = [...slot.pending.values()];
      slot.pending.clear();
      held.forEach((job, i) => {
        if (i > 0 && !job.settled && !job.started && job.slots.length === 1 && !this.closed) {
          job.slots = [];
          job.outstanding = 0;
          (job.heavy ? this.heavy : this.light).unshift(job);
        } else if (i > 0 && !job.settled) {
          this.fail(
            job,
            new AppError(503, 'search_restarting', 'a search worker was restarting; retry the request'),
          );
        } else this.fail(job, err);
      });
      if (this.closed) return;
      // A crashed worker is replaced so one bad request never takes search down.
      const own = slot.lane === 'heavy' ? this.heavySlots : this.slots;
      const i = own.indexOf(slot);
      if (i >= 0) own[i] = this.spawn(slot.lane);
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
  runner(daily: MarketArrays, control: SearchControl = {}): ShardRunner {
    return (spec: ScanSpec, plan: Plan) => {
      const arrays = barArrays(daily, spec.timeframe);
      if (this.size === 0) {
        return Promise.resolve([scanShard(arrays, spec, plan, new TauBoard(null, 0, 1), 0, 1)]);
      }
      this.rememberWasm(arrays.wasm);
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
      const { heavy, split } = admission(spec, plan, this.heavyCost, this.splitAbove);
      return this.submit(shared, spec, plan, heavy, split, control);
    };
  }

  /** Keeps `wasm` among the recent memories (the daily, weekly and monthly ones of the serving data). */
  private rememberWasm(wasm: MarketWasm | null): void {
    if (!wasm) return;
    this.recentWasm = [wasm, ...this.recentWasm.filter((w) => w !== wasm)].slice(0, 3);
  }

  private submit(
    arrays: MarketArrays,
    spec: ScanSpec,
    plan: Plan,
    heavy: boolean,
    split: boolean,
    control: SearchControl,
  ): Promise<ScanResult[]> {
    return new Promise<ScanResult[]>((resolve, reject) => {
      const job: Job = {
        arrays,
        spec,
        plan,
        tau: TauBoard.createBuffer(Math.max(this.size, this.heavyThreads)),
        control: new Int32Array(new SharedArrayBuffer(4)),
        heavy,
        split,
        slots: [],
        results: [],
        outstanding: 0,
        started: false,
        settled: false,
        resolve,
        reject,
        timers: [],
        unlisten: () => {},
      };
      const { signal, deadline } = control;
      if (signal?.aborted) return this.cancel(job, 'client_gone');
      if (signal) {
        const onAbort = () => this.cancel(job, 'client_gone');
        signal.addEventListener('abort', onAbort, { once: true });
        job.unlisten = () => signal.removeEventListener('abort', onAbort);
      }
      if (deadline !== undefined) {
        const left = deadline - performance.now();
        if (left <= 0) return this.cancel(job, 'deadline', control.budgetMs);
        job.timers.push(setTimeout(() => this.cancel(job, 'deadline', control.budgetMs), left));
      }
      (heavy ? this.heavy : this.light).push(job);
      this.pump();
    });
  }

  /** Places queued searches on workers: ordinary ones first, then heavy ones within their lane. */
  private pump(): void {
    while (!this.closed) {
      const light = this.light[0];
      const heavy = this.heavy[0];
      if (light && this.placeLight(light)) continue;
      if (heavy && this.placeHeavy(heavy)) continue;
      return;
    }
  }

  private placeLight(job: Job): boolean {
    const free = this.slots.filter((s) => !holdsHeavy(s));
    const eligible = free.filter((s) => s.isReady);
    let chosen: Slot[];
    if (job.split) {
      // Split over every worker outside the heavy lane, once all of them are up (a worker still
      // starting is seconds away, and a search split without it would run on fewer cores throughout).
      if (eligible.length === 0 || eligible.length < free.length) return false;
      chosen = eligible;
    } else {
      const best = leastLoaded(eligible.filter((s) => s.pending.size < HELD_PER_WORKER));
      if (!best) return false;
      chosen = [best];
    }
    this.light.shift();
    this.assign(job, chosen);
    return true;
  }

  private placeHeavy(job: Job): boolean {
    if (this.heavyThreads > 0) {
      // Own threads: one heavy search at a time, split over all of them once they are all up (a search
      // split without one still starting would run on fewer cores throughout).
      if (this.heavySlots.some((s) => s.pending.size > 0 || !s.isReady)) return false;
      this.heavy.shift();
      this.assign(job, this.heavySlots);
      return true;
    }
    if (this.slots.filter(holdsHeavy).length >= this.heavyWorkers) return false;
    const best = leastLoaded(this.slots.filter((s) => s.isReady && !holdsHeavy(s)));
    if (!best) return false;
    this.heavy.shift();
    this.assign(job, [best]);
    return true;
  }

  private assign(job: Job, slots: Slot[]): void {
    job.slots = slots;
    job.outstanding = slots.length;
    slots.forEach((slot, shard) => {
      const id = this.nextId++;
      slot.pending.set(id, job);
      const task: SearchTask = {
        id,
        arrays: job.arrays,
        spec: job.spec,
        plan: job.plan,
        tau: job.tau,
        shard,
        shards: slots.length,
        control: job.control,
        heavy: job.heavy,
        gate: job.heavy ? this.opts.heavyGate : undefined,
        work: this.opts.workCounter,
      };
      slot.worker.postMessage(task);
      this.noteStarted(slot);
    });
  }

  /** The search a worker runs now is the first it holds: its time limit starts with it. */
  private noteStarted(slot: Slot): void {
    const job = slot.pending.values().next().value;
    if (!job || job.started || job.settled) return;
    job.started = true;
    if (this.timeoutMs) job.timers.push(setTimeout(() => this.cancel(job, 'time_limit'), this.timeoutMs));
  }

  private shardDone(job: Job, result: ScanResult): void {
    if (result.abandoned) {
      this.abandonedChunks += result.abandoned;
      this.opts.onAbandoned?.(result.abandoned);
    }
    if (job.settled) return;
    job.results.push(result);
    if (--job.outstanding === 0) {
      this.settle(job);
      job.resolve(job.results);
    }
  }

  private fail(job: Job, err: Error): void {
    if (job.settled) return;
    Atomics.store(job.control, 0, 1);
    this.settle(job);
    job.reject(err);
  }

  private settle(job: Job): void {
    job.settled = true;
    for (const t of job.timers) clearTimeout(t);
    job.unlisten();
  }

  /**
   * Stops a search: answered at once (504 past a deadline or time limit), taken out of its queue, and
   * its workers told through the control word to stop before their next chunk. A worker that does not
   * come back within STOP_GRACE_MS (a chunk far longer than a chunk should be) is replaced.
   */
  private cancel(job: Job, reason: CancelReason, budgetMs?: number): void {
    if (job.settled) return;
    this.cancelledCount++;
    this.opts.onCancel?.(reason);
    for (const q of [this.light, this.heavy]) {
      const i = q.indexOf(job);
      if (i >= 0) q.splice(i, 1);
    }
    const err =
      reason === 'client_gone'
        ? new AppError(499, 'client_closed', 'the client closed the request; the search was stopped')
        : reason === 'deadline'
          ? new AppError(
              504,
              'search_timeout',
              `the search did not finish within its time budget${budgetMs ? ` of ${budgetMs} ms` : ''} and was stopped`,
            )
          : new AppError(
              504,
              'search_timeout',
              `the search took longer than ${this.timeoutMs} ms and was stopped`,
            );
    this.fail(job, err);
    for (const slot of job.slots) {
      const timer = setTimeout(() => {
        // Only while it still runs this search: behind another one, it stops as soon as it starts.
        if (
          slot.pending.values().next().value === job &&
          (this.slots.includes(slot) || this.heavySlots.includes(slot))
        )
          void slot.worker.terminate();
      }, this.opts.stopGraceMs ?? STOP_GRACE_MS);
      timer.unref();
    }
    this.pump();
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.slots, ...this.heavySlots];
    const running = all.flatMap((s) => [...s.pending.values()]);
    // Running searches too: failing one sets its control word, so its workers leave a kernel call that
    // terminate() could not interrupt, and the workers end at once.
    for (const job of [...this.light.splice(0), ...this.heavy.splice(0), ...running])
      this.fail(job, new AppError(503, 'not_ready', 'the search service is shutting down'));
    await Promise.all(all.map((s) => s.worker.terminate()));
  }
}

function holdsHeavy(slot: Slot): boolean {
  for (const job of slot.pending.values()) if (job.heavy) return true;
  return false;
}

function leastLoaded(slots: Slot[]): Slot | null {
  let best: Slot | null = null;
  for (const s of slots) if (!best || s.pending.size < best.pending.size) best = s;
  return best;
}
