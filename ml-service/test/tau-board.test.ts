import { describe, expect, it } from 'vitest';
import { TauBoard, type Pick } from '../src/search/top-picks.js';

const picks = (...d: number[]): Pick[] => d.map((distance, i) => ({ entity: 0, start: i, distance }));

describe('TauBoard (pruning bound shared between search workers)', () => {
  it('bounds with the k-th best of all workers’ picks, never below the exact value', () => {
    const buf = TauBoard.createBuffer(3);
    const a = new TauBoard(buf, 0, 3);
    const b = new TauBoard(buf, 1, 3);
    const c = new TauBoard(buf, 2, 3);
    expect(a.bound(picks(1, 5), 3)).toBe(Infinity);
    b.publish(picks(2, 3, 9));
    c.publish(picks(0.5));
    // own 1, 5; b 2, 3, 9; c 0.5 -> sorted 0.5, 1, 2, 3, ... : the 3rd is 2 (rounded up, by < 1e-4)
    const k3 = a.bound(picks(1, 5), 3);
    expect(k3).toBeGreaterThanOrEqual(2);
    expect(k3).toBeLessThan(2 + 1e-4);
    expect(a.bound(picks(1, 5), 7)).toBe(Infinity);
    // A newer, better list replaces the old one.
    b.publish(picks(0.1, 0.2));
    expect(a.bound(picks(1, 5), 3)).toBeLessThan(0.51);
  });

  it('ignores a worker caught mid-update and values too large to publish', () => {
    const buf = TauBoard.createBuffer(2);
    const a = new TauBoard(buf, 0, 2);
    const b = new TauBoard(buf, 1, 2);
    b.publish(picks(1, 2));
    Atomics.add(new Int32Array(buf), TauBoard.STRIDE, 1); // b's sequence odd: a write in progress
    expect(a.bound(picks(3), 2)).toBe(Infinity);
    Atomics.add(new Int32Array(buf), TauBoard.STRIDE, 1);
    expect(a.bound(picks(3), 2)).toBeGreaterThanOrEqual(2);
    expect(a.bound(picks(3), 2)).toBeLessThan(2.001);
    b.publish(picks(1, 1e9));
    expect(a.bound(picks(3), 3)).toBe(Infinity); // 1e9 was left out, so only two values are known
    expect(a.bound(picks(3), 2)).toBeGreaterThanOrEqual(3);
  });
});
