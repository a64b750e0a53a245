/**
 * Worker-thread entry for training: brain.js trains synchronously, so running it here keeps the main
 * thread free to draw the progress bar (and, in the service, to keep answering requests).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { trainNet, type TrainOptions } from './brainjs-train.js';
import type { Sample } from './brainjs-dataset.js';

export type TrainWorkerMessage =
  | { type: 'progress'; iterations: number; error: number }
  | { type: 'done'; result: ReturnType<typeof trainNet> }
  | { type: 'failed'; message: string };

const { samples, options } = workerData as {
  samples: Pick<Sample, 'input' | 'output'>[];
  options: TrainOptions;
};
const post = (m: TrainWorkerMessage) => parentPort!.postMessage(m);
try {
  const result = trainNet(samples, options, (p) => post({ type: 'progress', ...p }));
  post({ type: 'done', result });
} catch (error) {
  post({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
}
