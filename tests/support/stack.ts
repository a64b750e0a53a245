/**
 * Starts the real services on loopback for cross-service and end-to-end tests: imports the 30-ticker
 * real-price fixture into a temporary DATA_DIR with the scraper's importer, then ml-service, backend and
 * (optionally) the built frontend on free ports, each waited for on its health endpoint.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  freePort,
  repoRoot,
  runToEnd,
  startProcess,
  stopProcess,
  tsxBin,
  waitForHealthy,
  type Managed,
} from '../../scripts/processes.js';

export const fixtureCsv = resolve(repoRoot, 'tests', 'fixtures', 'sp500-subset.csv.gz');
export const fixtureTickers = 30;

export interface Stack {
  dataDir: string;
  mlUrl: string;
  mlToken: string;
  backendUrl: string;
  frontendUrl?: string;
  stop(): Promise<void>;
}

export interface StackOptions {
  withFrontend?: boolean;
  /** Extra env for backend (and frontend). */
  env?: Record<string, string>;
  /** Extra env for ml-service (e.g. a short ML_RELOAD_INTERVAL_MS, so a test's data update is seen soon). */
  mlEnv?: Record<string, string>;
  /** Reuse an existing DATA_DIR instead of importing the fixture. */
  dataDir?: string;
}

export async function importFixture(dataDir: string, file = fixtureCsv): Promise<void> {
  await runToEnd(
    tsxBin,
    ['scraper/src/import.cli.ts', file, '--data', dataDir, '--market', 'US', '--currency', 'USD'],
    {
      LOG_LEVEL: 'warn',
    },
  );
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const work = mkdtempSync(join(tmpdir(), 'resemble-stack-'));
  const dataDir = opts.dataDir ?? join(work, 'data');
  if (!opts.dataDir) await importFixture(dataDir);

  const mlToken = 'stack-ml-token';
  const started: Managed[] = [];
  const stop = async () => {
    for (const m of started.reverse()) await stopProcess(m);
    rmSync(work, { recursive: true, force: true });
  };
  try {
    const mlPort = await freePort();
    const ml = startProcess('ml-service', process.execPath, ['--import', 'tsx', 'ml-service/src/server.ts'], {
      ML_HOST: '127.0.0.1',
      ML_PORT: String(mlPort),
      ML_TOKEN: mlToken,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      ...opts.mlEnv,
    });
    started.push(ml);
    const mlUrl = `http://127.0.0.1:${mlPort}`;

    const backendPort = await freePort();
    const frontendPort = opts.withFrontend ? await freePort() : 0;
    const publicUrl = opts.withFrontend
      ? `http://127.0.0.1:${frontendPort}`
      : `http://127.0.0.1:${backendPort}`;
    const backend = startProcess('backend', process.execPath, ['--import', 'tsx', 'backend/src/server.ts'], {
      HOST: '127.0.0.1',
      PORT: String(backendPort),
      ML_URL: mlUrl,
      ML_TOKEN: mlToken,
      APP_DB: join(work, 'app.sqlite'),
      DATA_DIR: dataDir,
      PUBLIC_URL: publicUrl,
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      ...opts.env,
    });
    started.push(backend);
    const backendUrl = `http://127.0.0.1:${backendPort}`;

    // ml-service must be ready (data loaded) before backend is useful for searches.
    await waitForHealthy(ml, `${mlUrl}/health`);
    await waitForHealthy(backend, `${backendUrl}/api/v1/health`);

    let frontendUrl: string | undefined;
    if (opts.withFrontend) {
      const entry = resolve(repoRoot, 'frontend', '.output', 'server', 'index.mjs');
      if (!existsSync(entry)) throw new Error('frontend is not built: run `npm run build -w frontend` first');
      const frontend = startProcess('frontend', process.execPath, [entry], {
        HOST: '127.0.0.1',
        PORT: String(frontendPort),
        NITRO_HOST: '127.0.0.1',
        NITRO_PORT: String(frontendPort),
        NUXT_BACKEND_URL: backendUrl,
        ...opts.env,
      });
      started.push(frontend);
      frontendUrl = `http://127.0.0.1:${frontendPort}`;
      await waitForHealthy(frontend, `${frontendUrl}/`);
    }
    return { dataDir, mlUrl, mlToken, backendUrl, frontendUrl, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
