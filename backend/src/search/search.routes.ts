import type { RequestHandler, Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import { pricesResponseSchema, type PredictResponse, type SimilarResponse } from '@resemble/contracts';
import type { SharedState } from '../shared/shared-state.js';
import { requireFeature } from '../auth/auth.middleware.js';
import { AppError } from '../platform/errors.js';
import { jsonBytes, type Impls } from '../platform/contract-router.js';
import { similarToCsv } from './csv.js';
import { listRecentSearches, recordRecentSearch } from './recent-searches.repo.js';
import * as search from './search.service.js';
import type { MlClient } from './ml.client.js';

type SearchRoute =
  'entities' | 'facets' | 'prices' | 'similar' | 'recentSearches' | 'predict' | 'exportSimilarCsv';

export interface SearchRouteDeps extends search.SearchDeps {
  ml: search.SearchDeps['ml'] & Pick<MlClient, 'entities' | 'facets' | 'prices'>;
  perUserPerMinute: number;
  rateLimitStore: SharedState['rateLimitStore'];
}

export function searchRoutes(deps: SearchRouteDeps): Impls<SearchRoute> {
  const { db, ml, now } = deps;
  // Fair use for everyone, keyed by user: Pro is unlimited per day, not per second.
  const perUser: RequestHandler = rateLimit({
    windowMs: 60_000,
    limit: deps.perUserPerMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    keyGenerator: (req) => `user:${req.auth!.userId}`,
    store: deps.rateLimitStore('user'),
    handler: (_req, _res, next) =>
      next(new AppError(429, 'rate_limited', 'too many requests; slow down for a minute')),
  });
  const rid = (req: { id: unknown }) => String(req.id);
  /** Aborts when the client goes away before its answer is sent: the search is stopped, not finished for nobody. */
  const clientGone = (res: Response): AbortSignal => {
    const ac = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) ac.abort();
    });
    return ac.signal;
  };

  return {
    entities: {
      use: [perUser],
      handler: async ({ query, req }) => ({
        status: 200,
        body: await ml.entities(query.q, query.limit, rid(req)),
      }),
    },

    facets: {
      use: [perUser],
      handler: async ({ req }) => ({ status: 200, body: await ml.facets(rid(req)) }),
    },

    prices: {
      use: [perUser],
      handler: async ({ params, query, req }) => ({
        status: 200,
        // ml-service's answer is checked against the contract before it is passed on.
        body: pricesResponseSchema.parse(
          await ml.prices(params.code, query.from, query.to, rid(req), query.timeframe),
        ),
      }),
    },

    // ml-service answers from contracts/src/ml.ts's schemas; its bytes pass through unparsed.
    similar: {
      use: [perUser],
      handler: async ({ body, req, res }) => {
        const answer = await search.similar(
          deps,
          req.auth!.userId,
          body,
          rid(req),
          clientGone(res),
          req.auth!.tokenId,
        );
        // The web app's recent-searches list (API token calls would only churn it).
        if (req.auth!.via === 'cookie')
          await recordRecentSearch(db, req.auth!.userId, body, new Date(now()).toISOString());
        return { status: 200, json: jsonBytes<SimilarResponse>(answer) };
      },
    },

    recentSearches: {
      handler: async ({ req }) => ({
        status: 200,
        body: { searches: await listRecentSearches(db, req.auth!.userId) },
      }),
    },

    predict: {
      use: [perUser],
      handler: async ({ body, req, res }) => ({
        status: 200,
        json: jsonBytes<PredictResponse>(
          await search.predict(deps, req.auth!.userId, body, rid(req), clientGone(res), req.auth!.tokenId),
        ),
      }),
    },

    exportSimilarCsv: {
      use: [requireFeature(deps, 'csvExport'), perUser],
      handler: async ({ body, req, res }) => {
        const csv = similarToCsv(
          JSON.parse(
            (
              await search.similar(deps, req.auth!.userId, body, rid(req), clientGone(res), req.auth!.tokenId)
            ).toString(),
          ),
        );
        res.attachment('resemble-similar.csv');
        return { status: 200, text: csv };
      },
    },
  };
}
