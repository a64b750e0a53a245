/** A search worker: scans its shard of a plan over the shared market arrays and posts the result back. */
import { readFileSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import type { MarketArrays } from '../market/market-data.js';
import { dtwProbe } from '../kernels/dtw-search.js';
import { scanShard, type ScanResult, type ScanSpec } from './scan.js';
import type { Plan } from './search-plan.js';
import { TauBoard } from './top-picks.js';

export interface SearchTask {
  id: number;
  arrays: MarketArrays;
  spec: ScanSpec;
  plan: Plan;
  tau: SharedArrayBuffer;
  shard: number;
  shards: number;
  /**
   * The search's control word, shared with the pool: non-zero once the search is cancelled (client gone,
   * deadline or time limit passed); the shard stops before its next chunk, and the DTW kernel inside a
   * call (see scan.ts).
   */
  control: Int32Array;
  /** Marks a search of the heavy lane (for the test gate; its thread's priority is set by its lane). */
  heavy: boolean;
  /** Tests only: while gate[0] is 0, the shard waits before each chunk (so a test can hold a search). */
  gate?: Int32Array;
  /** Tests only: a shared array the DTW kernel counts its stages into (PoolOptions.workCounter). */
  work?: Float64Array;
}

/**
 * What a worker runs (search-pool.ts): 'ordinary' or 'heavy' searches only, each at its own fixed
 * priority; 'mixed' (the heavy lane borrowing ordinary workers) takes either, at the ordinary priority.
 */
export type WorkerLane = 'ordinary' | 'heavy' | 'mixed';

const ownStats = dtwProbe.stats;

type Outcome = { id: number; ok: true; result: ScanResult } | { id: number; ok: false; message: string };

/** Every reply carries the thread's nice value as it is now (null where there is none to read). */
export type SearchReply = { nice: number | null } & ({ ready: true } | Outcome);

parentPort!.on('message', (task: SearchTask) => {
  let reply: Outcome;
  try {
    const board = new TauBoard(task.tau, task.shard, task.shards);
    const { control, gate } = task;
    const shouldStop = () => {
      while (gate && Atomics.load(gate, 0) === 0 && Atomics.load(control, 0) === 0)
        Atomics.wait(gate, 0, 0, 20);
      return Atomics.load(control, 0) !== 0;
    };
    dtwProbe.stats = task.work ?? ownStats;
    reply = {
      id: task.id,
      ok: true,
      result: scanShard(
        task.arrays,
        task.spec,
        task.plan,
        board,
        task.shard,
        task.shards,
        shouldStop,
        control,
      ),
    };
  } catch (err) {
    reply = { id: task.id, ok: false, message: (err as Error).message };
  }
  parentPort!.postMessage({ ...reply, nice });
});
// Search is the only long CPU-bound work here: below normal priority it yields to the threads that
// move requests (this service's main thread, backend), so answers are not held up behind scans; the heavy
// lane goes 9 nice steps lower still, so an ordinary search's thread gets ~88 % of a core against a heavy
// thread (CFS weights 1024/1.25^nice) and heavy searches can use every core without taking it from the
// ordinary ones (decision 122). On Linux the nice value is per thread and setPriority(0, …) sets the
// calling one (libuv calls setpriority(PRIO_PROCESS, 0, …), which Linux applies to the calling task), so
// no addon is needed. The values are relative to the nice the process started with (a thread inherits
// its creator's), so a service run under `nice -n -15` keeps the same gaps. Elsewhere this may fail or
// apply to the process, which is harmless. A mixed worker stays at the ordinary priority: lowered for a
// heavy search, it could not raise itself again without a privilege and would run the ordinary searches
// after it at the lowest priority (decision 122).
const BASE_NICE = safeGetPriority() ?? 0;
const ORDINARY_NICE = Math.min(19, BASE_NICE + 10);
const HEAVY_NICE = Math.min(19, ORDINARY_NICE + 9);
const lane = (workerData as { lane?: WorkerLane } | null)?.lane ?? 'mixed';
try {
  setPriority(lane === 'heavy' ? HEAVY_NICE : ORDINARY_NICE);
} catch {
  // not permitted here: searches run at the priority the thread has
}
const nice = threadNice();

function safeGetPriority(): number | null {
  try {
    return getPriority();
  } catch {
    return null;
  }
}

/**
 * This thread's nice value: on Linux from /proc/thread-self/stat (field 19, after the command name in
 * parentheses), which is what the kernel schedules by; elsewhere what os.getPriority() says.
 */
function threadNice(): number | null {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const v = Number(fields[16]);
    if (Number.isInteger(v)) return v;
  } catch {
    // not Linux
  }
  return safeGetPriority();
}

parentPort!.postMessage({ ready: true, nice });
