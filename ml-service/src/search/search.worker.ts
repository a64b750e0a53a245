/** A search worker: scans its shard of a plan over the shared market arrays and posts the result back. */
import { constants, setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
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
  /** Marks a search of the heavy lane: it runs at the lowest priority, below ordinary searches. */
  heavy: boolean;
  /** Tests only: while gate[0] is 0, the shard waits before each chunk (so a test can hold a search). */
  gate?: Int32Array;
  /** Tests only: a shared array the DTW kernel counts its stages into (PoolOptions.workCounter). */
  work?: Float64Array;
}

const ownStats = dtwProbe.stats;

export type SearchReply =
  { ready: true } | { id: number; ok: true; result: ScanResult } | { id: number; ok: false; message: string };

parentPort!.on('message', (task: SearchTask) => {
  let reply: SearchReply;
  try {
    const board = new TauBoard(task.tau, task.shard, task.shards);
    const { control, gate } = task;
    const shouldStop = () => {
      while (gate && Atomics.load(gate, 0) === 0 && Atomics.load(control, 0) === 0)
        Atomics.wait(gate, 0, 0, 20);
      return Atomics.load(control, 0) !== 0;
    };
    setLane(task.heavy);
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
  parentPort!.postMessage(reply);
});
// Search is the only long CPU-bound work here: below normal priority it yields to the threads that
// move requests (this service's main thread, backend), so answers are not held up behind scans; a heavy
// search goes lower still, so on a busy machine the ordinary searches beside it get the cores first. On
// Linux the nice value is per thread and setPriority(0) means the calling one; elsewhere this may fail or
// apply to the process, which is harmless (and raising it back from the lowest may be refused).
let lane: boolean | null = null;
function setLane(heavy: boolean): void {
  if (lane === heavy) return;
  try {
    setPriority(heavy ? constants.priority.PRIORITY_LOW : constants.priority.PRIORITY_BELOW_NORMAL);
    lane = heavy;
  } catch {
    // not permitted here: the search runs at the priority it has
  }
}
setLane(false);
parentPort!.postMessage({ ready: true });
