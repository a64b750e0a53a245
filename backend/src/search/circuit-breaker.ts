/**
 * A small circuit breaker: after `threshold` consecutive failures the circuit opens and calls fail fast
 * for `cooldownMs`; then one trial call is let through (half-open) and its result closes or re-opens it.
 * Failing fast keeps request threads from piling up behind a dead ml-service.
 */
export class CircuitOpenError extends Error {
  constructor() {
    super('circuit open');
  }
}

export class CircuitBreaker {
  private failures = 0;
  private openedAt = 0;
  private trialInFlight = false;

  constructor(
    private readonly threshold = 5,
    private readonly cooldownMs = 5_000,
    private readonly now: () => number = Date.now,
  ) {}

  get state(): 'closed' | 'open' | 'half-open' {
    if (this.failures < this.threshold) return 'closed';
    return this.now() - this.openedAt >= this.cooldownMs ? 'half-open' : 'open';
  }

  async fire<T>(fn: () => Promise<T>, isFailure: (err: unknown) => boolean): Promise<T> {
    const state = this.state;
    if (state === 'open' || (state === 'half-open' && this.trialInFlight)) throw new CircuitOpenError();
    const trial = state === 'half-open';
    if (trial) this.trialInFlight = true;
    try {
      const result = await fn();
      this.failures = 0;
      return result;
    } catch (err) {
      if (isFailure(err)) {
        this.failures++;
        if (this.failures >= this.threshold) this.openedAt = this.now();
      } else if (trial) this.failures = 0;
      throw err;
    } finally {
      if (trial) this.trialInFlight = false;
    }
  }
}
