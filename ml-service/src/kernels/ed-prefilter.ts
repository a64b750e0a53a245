/**
 * The WASM SIMD pre-filter of the z-normalised ED search (wasm/zscan.ts): per thread, one instance bound
 * to the market's shared memory and one claimed slot of that memory for its parameters and output.
 *
 * A thread keeps its instance only for the memory it used last: an instance holds its memory, so keeping
 * one for the data a reload replaced would keep that whole market in RAM. (A search still queued on the
 * old data after the swap just instantiates again.)
 */
import { readFileSync } from 'node:fs';
import * as params from '../../wasm/params.js';
import { threadId } from 'node:worker_threads';
import { ID_AT, ID_WORDS, LOCKS, PARAM_BYTES, SLOTS, type MarketWasm } from '../market/market-memory.js';

/**
 * The kernel's parameter block layout (f64 slot indices; *_BYTE are byte offsets), defined once in
 * wasm/params.ts, which wasm/zscan.ts imports and native/zscan_params.h is generated from.
 */
export const SLOT = { ...params } as const;

type ScanZ = (p: number, s1: number, tLo: number, tHi: number, out: number) => number;
type Stage1b = (p: number, s1: number, count: number, out: number) => number;
type Stage3 = (
  p: number,
  closes: number,
  s1: number,
  s2: number,
  count: number,
  L: number,
  out: number,
) => number;
type Stage2 = (
  p: number,
  s1: number,
  s2: number,
  count: number,
  L: number,
  m2: number,
  out: number,
) => number;

export interface Prefilter {
  scanZ: ScanZ;
  stage1b: Stage1b;
  stage2: Stage2;
  stage3: Stage3;
  paramsAt: number;
  params: Float64Array;
  outAt: number;
  out: Int32Array;
  /** The scanner whose query parameters the slot holds. */
  owner: object | null;
}

let zscanModule: WebAssembly.Module | null = null;

function compiled(): WebAssembly.Module {
  zscanModule ??= new WebAssembly.Module(readFileSync(new URL('../../wasm/zscan.wasm', import.meta.url)));
  return zscanModule;
}

const bound: { id: string; memory: WebAssembly.Memory; slot: number; pf: Prefilter | null }[] = [];

/** The random id allocateBuffers stamped into the memory: threads receive new wrapper objects per message. */
function memoryId(memory: WebAssembly.Memory): string {
  return Array.from(new Int32Array(memory.buffer, ID_AT, ID_WORDS)).join('.');
}

/** This thread's pre-filter for the given market memory, or null (no WASM memory or no free slot). */
export function prefilterFor(wasm: MarketWasm | null): Prefilter | null {
  if (!wasm) return null;
  const id = memoryId(wasm.memory);
  const hit = bound.find((b) => b.id === id);
  if (hit) return hit.pf;
  const locks = new Int32Array(wasm.memory.buffer, LOCKS, SLOTS);
  let slot = -1;
  for (let i = 0; i < SLOTS; i++) {
    // A claim holds the claiming thread's id + 1 (the main thread is 0), so the search pool can release
    // the slot of a worker that died or was stopped (releaseSlotsOf).
    if (Atomics.compareExchange(locks, i, 0, threadId + 1) === 0) {
      slot = i;
      break;
    }
  }
  let pf: Prefilter | null = null;
  if (slot >= 0) {
    const instance = new WebAssembly.Instance(compiled(), { env: { memory: wasm.memory } });
    const at = wasm.slotBase + slot * wasm.slotBytes;
    const buf = wasm.memory.buffer;
    pf = {
      scanZ: instance.exports.scanZ as ScanZ,
      stage1b: instance.exports.stage1b as Stage1b,
      stage2: instance.exports.stage2 as Stage2,
      stage3: instance.exports.stage3 as Stage3,
      paramsAt: at,
      params: new Float64Array(buf, at, PARAM_BYTES / 8),
      outAt: at + PARAM_BYTES,
      out: new Int32Array(buf, at + PARAM_BYTES, (wasm.slotBytes - PARAM_BYTES) / 4),
      owner: null,
    };
  }
  bound.unshift({ id, memory: wasm.memory, slot, pf });
  while (bound.length > 1) {
    const old = bound.pop()!;
    if (old.slot >= 0)
      Atomics.compareExchange(new Int32Array(old.memory.buffer, LOCKS, SLOTS), old.slot, threadId + 1, 0);
  }
  return pf;
}

/** Frees the slots a (dead) thread claimed in this market's memory; returns how many. */
export function releaseSlotsOf(wasm: MarketWasm | null, thread: number): number {
  if (!wasm) return 0;
  const locks = new Int32Array(wasm.memory.buffer, LOCKS, SLOTS);
  let freed = 0;
  for (let i = 0; i < SLOTS; i++)
    if (Atomics.compareExchange(locks, i, thread + 1, 0) === thread + 1) freed++;
  return freed;
}
