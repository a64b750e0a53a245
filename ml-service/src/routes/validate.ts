import type { z } from 'zod';
import { badRequest, notReady } from '../errors.js';
import type { MarketData } from '../market-data.js';
import type { MarketState } from '../market-state.js';

/** Parses input with a zod schema; a failure is a 400 listing every reason. */
export function parseOr400<S extends z.ZodType>(schema: S, input: unknown, what: string): z.infer<S> {
  const r = schema.safeParse(input);
  if (!r.success) {
    const details = r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    throw badRequest(
      `invalid ${what}: ${details.map((d) => (d.path ? `${d.path}: ${d.message}` : d.message)).join('; ')}`,
      details,
    );
  }
  return r.data;
}

export function readyData(state: MarketState): MarketData {
  if (!state.data) throw notReady();
  return state.data;
}
