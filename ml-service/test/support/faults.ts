/**
 * Preloaded into a real ml-service process by test/server.test.ts (`node --import tsx --import <this>`)
 * to make two failures happen for real, chosen by environment:
 *
 * - ML_TEST_NO_ADDONS=1: each of ml-service's native addons fails to load as it does on a host missing a system library
 *   (process.dlopen throws, in every thread), so the service must fall back to WASM and say so.
 * - ML_TEST_FAULT_ON_SIGUSR2=throw|reject: on SIGUSR2 the main thread throws an exception nobody catches,
 *   or rejects a promise nobody handles, so the service's own handlers must log it and exit.
 */
import { resolve } from 'node:path';
import { isMainThread } from 'node:worker_threads';

if (process.env.ML_TEST_NO_ADDONS === '1') {
  // Only ml-service's own addons (build/Release): better-sqlite3's must still load.
  const dlopen = process.dlopen.bind(process);
  const ours = resolve(import.meta.dirname, '../../build');
  process.dlopen = (...args: Parameters<typeof process.dlopen>) => {
    if (args[1].startsWith(ours))
      throw new Error(`${args[1]}: cannot open shared object file: libdeliberately-missing.so.1 (test)`);
    return dlopen(...args);
  };
}

const fault = process.env.ML_TEST_FAULT_ON_SIGUSR2;
if (isMainThread && (fault === 'throw' || fault === 'reject')) {
  process.on('SIGUSR2', () => {
    const err = new Error(`deliberate ${fault} from the test`);
    if (fault === 'throw') throw err;
    void Promise.reject(err);
  });
}
