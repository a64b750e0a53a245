/**
 * The big market arrays (closes and the prefix sums) live in one shared WebAssembly.Memory, so the WASM
 * pre-filter (ed-prefilter.ts) reads them in place from any thread, with no copy. Layout:
 *
 *   [0, 64 KiB)        reserved (the module has no data segments): a random id at ID_AT, slot claims at LOCKS
 *   slots              per thread: a parameter block and an output buffer for one entity's survivors
 *   closes, sum1, sum2 Float64, 8-byte aligned
 *
 * A memory above the 4 GiB a wasm32 module can address is not created: the arrays then live in plain
 * SharedArrayBuffers and zned search computes every window directly (decision 124).
 */
export const PAGE = 65536;
/** Byte offset and length (Int32 words) of the random id that lets each thread recognise a memory. */
export const ID_AT = 0;
export const ID_WORDS = 4;
/** Byte offset of the slot claim words (one Int32 per slot). */
export const LOCKS = 1024;
export const SLOTS = 64;
/** Bytes of each slot's parameter block (f64 slots and the query, see wasm/zscan.ts). */
export const PARAM_BYTES = 8192;
const MAX_PAGES = 65536;

export interface MarketWasm {
  memory: WebAssembly.Memory;
  slotBase: number;
  slotBytes: number;
}

export interface MarketBuffers {
  closes: Float64Array;
  sum1: Float64Array;
  sum2: Float64Array;
  wasm: MarketWasm | null;
}

const align = (n: number, to: number) => Math.ceil(n / to) * to;

/** Arrays for `points` rows of `entities` entities, the longest having `maxRows` rows. */
export function allocateBuffers(points: number, entities: number, maxRows: number): MarketBuffers {
  const slotBytes = align(PARAM_BYTES + 4 * (maxRows + 4), 64);
  const slotBase = PAGE;
  const closesAt = align(slotBase + SLOTS * slotBytes, 64);
  const prefix = points + entities;
  const sum1At = closesAt + 8 * Math.max(1, points);
  const sum2At = sum1At + 8 * Math.max(1, prefix);
  const end = sum2At + 8 * Math.max(1, prefix);
  const pages = Math.ceil(end / PAGE);
  if (pages > MAX_PAGES) {
    const f64 = (n: number) => new Float64Array(new SharedArrayBuffer(Math.max(1, n) * 8));
    return { closes: f64(points), sum1: f64(prefix), sum2: f64(prefix), wasm: null };
  }
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  const buf = memory.buffer;
  new Int32Array(buf, ID_AT, ID_WORDS).set(crypto.getRandomValues(new Int32Array(ID_WORDS)));
  return {
    closes: new Float64Array(buf, closesAt, points),
    sum1: new Float64Array(buf, sum1At, prefix),
    sum2: new Float64Array(buf, sum2At, prefix),
    wasm: { memory, slotBase, slotBytes },
  };
}
