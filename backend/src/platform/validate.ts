import { z } from 'zod';
import { badRequest, zodDetails } from './errors.js';

/** Parses one part of a request, turning a schema failure into a 400 that names every bad field. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, what = 'request'): z.infer<S> {
  const r = schema.safeParse(value ?? {});
  if (!r.success) throw badRequest(`${what} is invalid`, zodDetails(r.error));
  return r.data;
}
