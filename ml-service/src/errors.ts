/** The one error type services throw; the error middleware maps it to `{ error: { code, message, details } }`. */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const badRequest = (message: string, details?: unknown) =>
  new AppError(400, 'invalid_request', message, details);
export const notFound = (message: string) => new AppError(404, 'not_found', message);
export const notReady = () => new AppError(503, 'not_ready', 'market data is still loading');
