import { Worker } from 'node:worker_threads';
import type { Sample } from './brainjs-dataset.js';
import type { TrainedNet, TrainOptions, TrainProgress } from './brainjs-train.js';
import type { TrainWorkerMessage } from './train.worker.js';

/**
 * Node 20 ignores `--import` in a worker's execArgv, so a TypeScript worker is started from a tiny eval'd
 * bootstrap that registers tsx's loader first; that works under `tsx` and under vitest alike.
 */
function workerBootstrap(): string {
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./train.worker.ts', import.meta.url).href;
  return `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
}

export function trainInWorker(
  samples: readonly Pick<Sample, 'input' | 'output'>[],
  options: TrainOptions,
  onProgress: (p: TrainProgress) => void,
): Promise<TrainedNet> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerBootstrap(), { eval: true, workerData: { samples, options } });
    let settled = false;
    worker.on('message', (m: TrainWorkerMessage) => {
      if (m.type === 'progress') onProgress({ iterations: m.iterations, error: m.error });
      else if (m.type === 'done') {
        settled = true;
        resolve(m.result);
        void worker.terminate();
      } else {
        settled = true;
        reject(new Error(`training failed: ${m.message}`));
        void worker.terminate();
      }
    });
    worker.on('error', (error) => {
      if (!settled) reject(error);
      settled = true;
    });
    worker.on('exit', (code) => {
      if (!settled) reject(new Error(`training worker exited with code ${code} before finishing`));
    });
  });
}
