/**
 * A backend in its own process (node + tsx on backend/src/server.ts), for tests that kill a replica
 * with SIGKILL: an in-process app cannot die mid-job the way a real process does.
 */
import {
  freePort,
  startProcess,
  stopProcess,
  waitForHealthy,
  type Managed,
} from '../../../scripts/processes.js';

export interface BackendProcess {
  url: string;
  managed: Managed;
  /** kill -9: no shutdown hook runs, no lock is released, no row is written. */
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

export async function startBackendProcess(env: Record<string, string>): Promise<BackendProcess> {
  const port = await freePort();
  const managed = startProcess('backend', process.execPath, ['--import', 'tsx', 'backend/src/server.ts'], {
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: String(port),
    JWT_SECRET: 'x'.repeat(40),
    SCRYPT_LOG_N: '12',
    LOG_LEVEL: 'warn',
    ...env,
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHealthy(managed, `${url}/api/v1/health`, 60_000);
  } catch (err) {
    await stopProcess(managed);
    throw err;
  }
  return {
    url,
    managed,
    async kill9() {
      const { child } = managed;
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGKILL');
      await exited;
    },
    stop: () => stopProcess(managed),
  };
}
