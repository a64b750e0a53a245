import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ImportError } from './sources.js';

/** Rows of one CSV chunk as columns; `tickers`/`counts`/`names` are runs of consecutive rows. */
export interface ColumnarBatch {
  tickers: string[];
  counts: number[];
  names: string[];
  dates: string[];
  /** open, high, low, close, volume per row. */
  nums: Float64Array;
  /** Bytes of the input file read for this batch (progress). */
  bytes: number;
}

export type WorkerMessage =
  | { type: 'rows'; batch: ColumnarBatch }
  | { type: 'end'; bytes: number }
  | { type: 'error'; message: string };

/**
 * Everything here runs as TypeScript through tsx, and worker threads do not inherit tsx's loader, so
 * the worker is started from a tiny bootstrap that registers tsx's ESM API first. (tsx's `esm/api`
 * export resolves to its CommonJS build under require(); the ESM build sits beside it.)
 */
function startWorker(path: string, gz: boolean): Worker {
  const tsxApi = pathToFileURL(
    createRequire(import.meta.url)
      .resolve('tsx/esm/api')
      .replace(/\.cjs$/, '.mjs'),
  ).href;
  const entry = new URL('./parse-worker.ts', import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((api) => { api.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(bootstrap, { eval: true, workerData: { path, gz } });
}

/** CSV rows parsed on a worker thread, while the caller validates and writes the previous batch. */
export async function* parallelCsvBatches(
  path: string,
  gz: boolean,
  onBytes: (n: number) => void,
): AsyncGenerator<ColumnarBatch> {
  const worker = startWorker(path, gz);
  const queue: WorkerMessage[] = [];
  let failure: Error | null = null;
  let exited = false;
  let wake: (() => void) | null = null;
  const notify = (): void => {
    wake?.();
    wake = null;
  };
  worker.on('message', (m: WorkerMessage) => {
    queue.push(m);
    notify();
  });
  worker.on('error', (err) => {
    failure = err;
    notify();
  });
  worker.on('exit', () => {
    exited = true;
    notify();
  });
  try {
    for (;;) {
      const msg = queue.shift();
      if (!msg) {
        if (failure) throw new ImportError(`cannot read ${path}: ${(failure as Error).message}`);
        if (exited) throw new ImportError(`cannot read ${path}: the parser thread stopped unexpectedly`);
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      if (msg.type === 'error') throw new ImportError(msg.message);
      if (msg.type === 'end') {
        onBytes(msg.bytes);
        return;
      }
      worker.postMessage('ack');
      onBytes(msg.batch.bytes);
      yield msg.batch;
    }
  } finally {
    await worker.terminate();
  }
}
