/**
 * `npm start` (and `./run.sh start`): the whole product on embedded defaults, from one origin.
 * 1. imports the bundled demo data when DATA_DIR has none (with a progress bar),
 * 2. builds the frontend once if it has never been built,
 * 3. starts ml-service, backend and the frontend, and stops them all together.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  repoRoot,
  runToEnd,
  startProcess,
  stopProcess,
  tsxBin,
  waitForHealthy,
  type Managed,
} from './processes.js';
import { spawnSync } from 'node:child_process';

const env = {
  DATA_DIR: process.env.DATA_DIR ?? resolve(repoRoot, 'data'),
  ML_PORT: process.env.ML_PORT ?? '8001',
  BACKEND_PORT: process.env.BACKEND_PORT ?? '8080',
  PORT: process.env.PORT ?? '3000',
  HOST: process.env.HOST ?? '127.0.0.1',
};

function step(msg: string): void {
  console.log(`\n▶ ${msg}`);
}

async function main(): Promise<void> {
  step(`market data in ${env.DATA_DIR}`);
  if (process.env.JQUANTS_API_KEY || process.env.POLYGON_API_KEY) {
    // A data-provider key: live data (the scraper's live sources bring the store up to date; the first
    // run fetches SCRAPE_INITIAL_DAYS of history and takes a while at the plan's request rate).
    step('a data-provider key is set: updating the store from the live sources');
    const scraped = spawnSync(tsxBin, ['scraper/src/scrape.cli.ts', '--data', env.DATA_DIR], {
      cwd: repoRoot,
      stdio: 'inherit',
    });
    // 1 = some stocks failed (the rest is stored); 2 = the run failed, which only stops us on an empty store.
    if (
      scraped.status !== 0 &&
      scraped.status !== 1 &&
      !existsSync(resolve(env.DATA_DIR, 'catalog.sqlite'))
    ) {
      throw new Error('the live scrape failed and there is no data yet (see above)');
    }
  } else {
    // The importer draws its own progress bar, so it gets the terminal.
    const imported = spawnSync(
      tsxBin,
      ['scraper/src/import.cli.ts', '--demo-if-empty', '--data', env.DATA_DIR],
      {
        cwd: repoRoot,
        stdio: 'inherit',
      },
    );
    if (imported.status !== 0) throw new Error('importing the demo data failed (see above)');
  }

  const frontendEntry = resolve(repoRoot, 'frontend', '.output', 'server', 'index.mjs');
  if (!existsSync(frontendEntry)) {
    step('building the frontend (first run only, about a minute)');
    await runToEnd('npm', ['run', 'build', '-w', 'frontend']);
  }

  const mlUrl = `http://127.0.0.1:${env.ML_PORT}`;
  const backendUrl = `http://127.0.0.1:${env.BACKEND_PORT}`;
  const publicUrl = `http://${env.HOST}:${env.PORT}`;
  const children: Managed[] = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    for (const m of [...children].reverse()) await stopProcess(m);
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  const start = (m: Managed) => {
    children.push(m);
    m.child.on('exit', (code, signal) => {
      if (stopping) return;
      console.error(`\n${m.name} stopped (${code ?? signal}); stopping the others.\n${m.tail.join('\n')}`);
      void stopAll(1);
    });
    return m;
  };

  // A fresh secret per run: only backend, which is given it, can query ml-service (any other local
  // process could otherwise use its API); it lives only in these two processes' environments.
  const mlToken = randomBytes(32).toString('base64url');
  step('starting ml-service (loads the market data into memory)');
  const ml = start(
    startProcess('ml-service', process.execPath, ['--import', 'tsx', 'ml-service/src/server.ts'], {
      ML_HOST: '127.0.0.1',
      ML_PORT: env.ML_PORT,
      ML_TOKEN: mlToken,
      DATA_DIR: env.DATA_DIR,
    }),
  );
  step('starting backend');
  const backend = start(
    startProcess('backend', process.execPath, ['--import', 'tsx', 'backend/src/server.ts'], {
      HOST: '127.0.0.1',
      PORT: env.BACKEND_PORT,
      ML_URL: mlUrl,
      ML_TOKEN: mlToken,
      DATA_DIR: env.DATA_DIR,
      PUBLIC_URL: publicUrl,
      NODE_ENV: process.env.NODE_ENV ?? 'development',
    }),
  );
  step('starting frontend');
  const frontend = start(
    startProcess('frontend', process.execPath, [frontendEntry], {
      HOST: env.HOST,
      PORT: env.PORT,
      NITRO_HOST: env.HOST,
      NITRO_PORT: env.PORT,
      NUXT_BACKEND_URL: backendUrl,
    }),
  );
  await waitForHealthy(ml, `${mlUrl}/health`);
  await waitForHealthy(backend, `${backendUrl}/api/v1/health`);
  await waitForHealthy(frontend, `${publicUrl}/`);
  console.log(`\n✔ Resemble is running at ${publicUrl}  (English: ${publicUrl}/en)  — Ctrl-C stops it.`);
  console.log('  Billing runs in TEST MODE (sandbox provider) unless payment keys are set.');
  // Keep each service's logs available on request without flooding the terminal.
  for (const m of children) {
    m.child.stdout?.on(
      'data',
      (b: Buffer) => process.env.VERBOSE && process.stdout.write(`[${m.name}] ${b}`),
    );
    m.child.stderr?.on('data', (b: Buffer) => process.stderr.write(`[${m.name}] ${b}`));
  }
}

main().catch((err: Error) => {
  console.error(`\nResemble could not start: ${err.message}`);
  process.exit(1);
});
