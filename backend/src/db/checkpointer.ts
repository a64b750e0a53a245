/**
 * WAL checkpoints off the event loop. SQLite's automatic checkpoint runs inside whichever commit crosses
 * 1,000 WAL pages, on the thread that commits: with a usage row written on every search that was a
 * 12–19 ms stall of the whole backend every ~1,000 searches on this machine's disk (0.3 ms on tmpfs),
 * and longer when the disk is busy. Here a worker thread with its own connection runs a PASSIVE
 * checkpoint every second (it never blocks writers) and the main connection's automatic one is off. If
 * the worker ever dies, the automatic checkpoint comes back, so the WAL can never grow without bound.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Db } from './db.js';

const AUTO_PAGES = 1000; // SQLite's default wal_autocheckpoint

// Plain JavaScript: the worker only needs better-sqlite3, resolved by the parent and passed in.
const WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.lib);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 5000');
const run = () => {
  try {
    return db.pragma('wal_checkpoint(PASSIVE)')[0];
  } catch (e) {
    parentPort.postMessage({ error: String(e && e.message || e) });
    return null;
  }
};
const timer = setInterval(run, workerData.everyMs);
parentPort.on('message', (m) => {
  if (m === 'now') parentPort.postMessage({ done: run() });
  if (m === 'stop') {
    clearInterval(timer);
    db.close();
    parentPort.close();
  }
});
parentPort.postMessage({ ready: true });
`;

export interface CheckpointResult {
  busy: number;
  log: number;
  checkpointed: number;
}

/** SQLite's answer shape for a checkpoint that did not run. */
const FAILED: CheckpointResult = { busy: 1, log: -1, checkpointed: -1 };

export class Checkpointer {
  private readonly worker: Worker;
  private stopping = false;
  private exited = false;
  private waiters: ((r: CheckpointResult) => void)[] = [];

  constructor(
    private readonly db: Db,
    file: string,
    private readonly log: Logger,
    everyMs = 1000,
  ) {
    const lib = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER, { eval: true, workerData: { file, lib, everyMs } });
    this.worker.unref();
    db.pragma('wal_autocheckpoint = 0');
    this.worker.on('message', (m: { done?: CheckpointResult | null; error?: string }) => {
      if (m.error) this.log.warn({ reason: m.error }, 'WAL checkpoint failed; the next one retries');
      // Only an asked-for checkpoint answers, in the order asked.
      if ('done' in m) this.waiters.shift()?.(m.done ?? FAILED);
    });
    const fallBack = (why: string) => {
      if (this.stopping) return;
      this.log.error({ reason: why }, 'WAL checkpoint worker stopped; SQLite checkpoints on commit again');
      if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${AUTO_PAGES}`);
    };
    this.worker.on('error', (err) => fallBack(err.message));
    this.worker.on('exit', (code) => {
      this.exited = true;
      // Checkpoints asked of it will never be answered.
      for (const w of this.waiters.splice(0)) w(FAILED);
      fallBack(`exit code ${code}`);
    });
  }

  /**
   * Runs a checkpoint now and resolves with SQLite's (busy, log, checkpointed) frame counts (busy 1 and
   * -1 counts when it failed).
   */
  checkpointNow(): Promise<CheckpointResult> {
    if (this.exited) return Promise.resolve(FAILED);
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.worker.postMessage('now');
    });
  }

  /** Stops the worker; the main connection's close then checkpoints what is left. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.exited) return;
    this.worker.postMessage('stop');
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => void this.worker.terminate().then(() => resolve()), 2000);
      this.worker.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /** For tests: what a dying worker looks like. */
  kill(): Promise<number> {
    return this.worker.terminate();
  }
}
