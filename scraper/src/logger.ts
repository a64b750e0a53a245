import pino from 'pino';

/** JSON logs to stderr so stdout stays free for summaries that scripts may parse. */
export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info', name = 'scraper'): pino.Logger {
  return pino({ name, level }, pino.destination(2));
}
