import pino, { type Logger } from 'pino';

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'ml-service', pid: process.pid },
    redact: ['req.headers.authorization'],
  });
}
