import type { Request, Response } from 'express';
import { ML_DEADLINE_HEADER } from '@resemble/contracts';
import { badRequest } from '../../errors.js';
import type { SearchControl } from '../../search/search-pool.js';

/**
 * How a search of this request may end early: when the client goes away (backend aborts its call when
 * its own client disconnects) and when the deadline backend sent runs out.
 */
export function searchControl(req: Request, res: Response): SearchControl {
  const ac = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) ac.abort();
  });
  const raw = req.get(ML_DEADLINE_HEADER);
  if (raw === undefined) return { signal: ac.signal };
  const budgetMs = Number(raw);
  if (!/^\d{1,9}$/.test(raw) || budgetMs < 1)
    throw badRequest(
      `${ML_DEADLINE_HEADER} must be a whole number of milliseconds (1 or more), got "${raw}"`,
    );
  return { signal: ac.signal, deadline: performance.now() + budgetMs, budgetMs };
}
