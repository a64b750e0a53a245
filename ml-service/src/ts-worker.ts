import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts a TypeScript worker. Node 20 ignores `--import` in a worker's execArgv, so the worker is an
 * eval'd bootstrap that registers tsx's loader first; that works under `tsx` and under vitest alike.
 */
export function startTsWorker(entry: URL, options: Omit<WorkerOptions, 'eval'> = {}): Worker {
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(code, { ...options, eval: true });
}
