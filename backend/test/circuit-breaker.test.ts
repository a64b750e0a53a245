import { describe, expect, it } from 'vitest';
import { CircuitBreaker, CircuitOpenError } from '../src/search/circuit-breaker.js';

describe('CircuitBreaker', () => {
  const fail = () => Promise.reject(new Error('down'));
  const ok = () => Promise.resolve('ok');
  const always = () => true;

  it('opens after the threshold of consecutive failures and fails fast while open', async () => {
    const t = 0;
    const b = new CircuitBreaker(3, 1000, () => t);
    for (let i = 0; i < 3; i++) await expect(b.fire(fail, always)).rejects.toThrow('down');
    expect(b.state).toBe('open');
    let called = false;
    await expect(b.fire(() => ((called = true), ok()), always)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(called).toBe(false);
  });

  it('lets one trial through after the cooldown; success closes, failure re-opens', async () => {
    let t = 0;
    const b = new CircuitBreaker(2, 1000, () => t);
    await expect(b.fire(fail, always)).rejects.toThrow();
    await expect(b.fire(fail, always)).rejects.toThrow();
    t = 1000;
    expect(b.state).toBe('half-open');
    await expect(b.fire(fail, always)).rejects.toThrow('down');
    expect(b.state).toBe('open');
    t = 2000;
    await expect(b.fire(ok, always)).resolves.toBe('ok');
    expect(b.state).toBe('closed');
  });

  it('does not count errors the caller says are not outages, and a success resets the count', async () => {
    const b = new CircuitBreaker(2, 1000, () => 0);
    for (let i = 0; i < 5; i++) await expect(b.fire(fail, () => false)).rejects.toThrow();
    expect(b.state).toBe('closed');
    await expect(b.fire(fail, always)).rejects.toThrow();
    await b.fire(ok, always);
    await expect(b.fire(fail, always)).rejects.toThrow();
    expect(b.state).toBe('closed');
  });
});
