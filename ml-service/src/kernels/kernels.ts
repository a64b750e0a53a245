/**
 * The kernel seam: which implementation runs each metric's scan, chosen once per thread from ML_KERNEL
 * (auto | native | wasm; every thread reads the same environment, so the main thread and the search
 * workers agree), logged at start and shown in /health.
 *
 * - zned: `native-avx2` (native/zscan.c) or `wasm-simd` (wasm/zscan.ts, same stages and parameter block).
 *   `auto` takes the native one where the addon loads and the CPU has AVX2; a native addon that does not
 *   load is a warning at start, never a silent fallback. `mean` normalisation stays in TypeScript.
 * - dtw: src/kernels/dtw-search.ts's choice (native, wasm or ts; ML_DTW_KERNEL overrides it).
 */
import { dtwKernel } from './dtw-search.js';
import { addonError } from './native-addon.js';
import { nativeZscan } from './ed-native.js';

export type KernelPreference = 'auto' | 'native' | 'wasm';
export type ZnedKernel = 'native-avx2' | 'wasm-simd';

export interface KernelChoice {
  zned: ZnedKernel;
  dtw: string;
  /** What start-up must warn about (an addon that would not load, a CPU without AVX2). */
  warnings: string[];
}

export class KernelUnavailableError extends Error {}

let chosen: KernelChoice | null = null;

/** The choice for `pref` (default: ML_KERNEL of this thread's environment); throws when `native` cannot run. */
export function chooseKernels(pref: KernelPreference = preference(process.env.ML_KERNEL)): KernelChoice {
  const warnings: string[] = [];
  let zned: ZnedKernel = 'wasm-simd';
  if (pref !== 'wasm') {
    const native = nativeZscan();
    const why = addonError('zscan');
    if (native) zned = 'native-avx2';
    else {
      const reason = why
        ? `the native zscan addon did not load (${why})`
        : 'this CPU has no AVX2 for the native zscan kernel';
      if (pref === 'native') throw new KernelUnavailableError(`ML_KERNEL=native but ${reason}`);
      warnings.push(`${reason}; zned search runs on the WASM kernel`);
    }
  }
  let dtw: string;
  try {
    dtw = dtwKernel().name;
  } catch (err) {
    throw new KernelUnavailableError((err as Error).message);
  }
  return { zned, dtw, warnings };
}

/** This thread's choice, made on first use and kept. */
export function kernels(): KernelChoice {
  chosen ??= chooseKernels();
  return chosen;
}

function preference(v: string | undefined): KernelPreference {
  return v === 'native' || v === 'wasm' ? v : 'auto';
}
