/** Listens, runs the renewal job and the alert poller, and shuts down gracefully on SIGTERM/SIGINT. */
import { Cron } from 'croner';
import { createServer } from 'node:http';
import { ConfigError, loadConfig } from './config.js';
import { createApp } from './app.js';
import { createLogger } from './platform/logger.js';

let config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(`backend: ${err.message}`);
    process.exit(1);
  }
  throw err;
}

const log = createLogger(config.logLevel);
let built;
try {
  built = await createApp(config, { logger: log });
} catch (err) {
  // Redis unreachable at start-up, for one: say so and stop rather than serve without shared state.
  log.fatal({ err }, 'backend could not start');
  process.exit(1);
}
const { app, serverOptions, services, close } = built;
const { billing, alerts: scanner, events } = services;
const server = createServer(serverOptions, app);
// Longer than any proxy's idle timeout, so keep-alive sockets are closed by the client side first.
server.keepAliveTimeout = 65_000;
const renewal = new Cron(config.billing.renewalCron, { protect: true, unref: true }, async () => {
  try {
    const n = await billing.renewDue();
    log.info({ renewed: n }, 'renewal run done');
  } catch (err) {
    log.error({ err }, 'renewal run failed');
  }
});

server.listen(config.server.port, config.server.host, () => {
  const a = server.address();
  log.info(
    {
      address: typeof a === 'object' && a ? `${a.address}:${a.port}` : a,
      // The process that must receive SIGTERM for a graceful stop (not a wrapper's).
      pid: process.pid,
      testMode: billing.testMode,
      providers: billing.providerIds,
    },
    'backend listening',
  );
  scanner.start();
  void scanner.tick();
});

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'shutting down');
  // Under podman's and docker's default stop timeout (10 s; `./run.sh containers down` allows 20 s):
  // the process ends itself, saying which step hung, before it is killed.
  let step = 'http server';
  const force = setTimeout(() => {
    log.error({ waitingFor: step }, 'graceful shutdown took over 8 s; exiting');
    process.exit(1);
  }, 8_000);
  force.unref();
  renewal.stop();
  scanner.stop();
  events.closeAll();
  server.close();
  server.closeIdleConnections();
  await close((s) => {
    step = s;
  });
  log.info('bye');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('unhandledRejection', (reason) => log.error({ err: reason }, 'unhandled rejection'));
process.on('uncaughtException', (err) => {
  log.fatal({ err }, 'uncaught exception');
  void shutdown('uncaughtException');
});
