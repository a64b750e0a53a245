/** A search worker: scans its shard of a plan over the shared market arrays and posts the result back. */
import { constants, setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import type { MarketArrays } from './market-data.js';
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
}

export type SearchReply =
  { ready: true } | { id: number; ok: true; result: ScanResult } | { id: number; ok: false; message: string };

parentPort!.on('message', (task: SearchTask) => {
  let reply: SearchReply;
  try {
    const board = new TauBoard(task.tau, task.shard, task.shards);
    reply = {
      id: task.id,
      ok: true,
      result: scanShard(task.arrays, task.spec, task.plan, board, task.shard, task.shards),
    };
  } catch (err) {
    reply = { id: task.id, ok: false, message: (err as Error).message };
  }
  parentPort!.postMessage(reply);
});
// Search is the only long CPU-bound work here: below normal priority it yields to the threads that
// move requests (this service's main thread, backend), so answers are not held up behind scans. On Linux
// the nice value is per thread and setPriority(0) means the calling one; elsewhere this may fail or
// apply to the process, which is harmless.
try {
  setPriority(constants.priority.PRIORITY_BELOW_NORMAL);
} catch {
  // not permitted here: search runs at normal priority
}
parentPort!.postMessage({ ready: true });
