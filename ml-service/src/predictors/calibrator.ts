/**
 * A versioned pUp calibrator: an isotonic map from raw pUp to the frequency of "up" observed for it on an
 * earlier, held-out walk-forward period (written by the backtest, loaded by the registry). It belongs to
 * one predictor version and one horizon; the registry applies it only to that pair.
 */
import { modelIdSchema } from '@resemble/contracts';
import { z } from 'zod';
import { applyIsotonic } from './isotonic.js';

export const CALIBRATOR_KIND = 'resemble-pup-calibrator';

const scoreSchema = z.object({
  n: z.number().int().nonnegative(),
  brierBefore: z.number().nullable(),
  brierAfter: z.number().nullable(),
  eceBefore: z.number().nullable(),
  eceAfter: z.number().nullable(),
});

export const calibratorFileSchema = z
  .object({
    kind: z.literal(CALIBRATOR_KIND),
    format: z.literal(1),
    version: z.string().min(1),
    createdAt: z.string(),
    predictor: modelIdSchema,
    predictorVersion: z.string().min(1),
    horizon: z.number().int().min(1).max(250),
    method: z.literal('isotonic'),
    fittedOn: z.object({
      from: z.string(),
      to: z.string(),
      n: z.number().int().positive(),
      dataVersion: z.string(),
    }),
    x: z.array(z.number().min(0).max(1)).min(1),
    y: z.array(z.number().min(0).max(1)).min(1),
    metrics: z.object({ fit: scoreSchema, test: scoreSchema.nullable() }),
  })
  .refine((c) => c.x.length === c.y.length, { message: 'x and y must have the same length' })
  .refine((c) => c.x.every((v, i) => i === 0 || v > c.x[i - 1]!), {
    message: 'x must be strictly increasing',
  })
  .refine((c) => c.y.every((v, i) => i === 0 || v >= c.y[i - 1]!), { message: 'y must be non-decreasing' });
export type CalibratorFile = z.infer<typeof calibratorFileSchema>;

export function calibratePUp(calibrator: Pick<CalibratorFile, 'x' | 'y'>, pUp: number): number {
  return applyIsotonic(calibrator, pUp);
}

export function calibratorFileName(predictor: string, horizon: number): string {
  return `calibrator-${predictor}-h${horizon}.json`;
}
