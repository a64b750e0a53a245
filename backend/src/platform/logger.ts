import { pino, type DestinationStream, type Logger } from 'pino';

/** Paths that may carry secrets or payment data; pino replaces them before a line is written. */
export const REDACT_PATHS = [
  'password',
  'currentPassword',
  'newPassword',
  'token',
  'accessToken',
  'refreshToken',
  'secret',
  '*.password',
  '*.currentPassword',
  '*.newPassword',
  '*.token',
  '*.secret',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-csrf-token"]',
  'req.headers["stripe-signature"]',
  'res.headers["set-cookie"]',
  'payment',
  '*.payment',
  'paymentDetails',
  'card',
  '*.card',
];

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    { level, base: { service: 'backend' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
    destination as DestinationStream | undefined,
  );
}
