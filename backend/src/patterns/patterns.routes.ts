import type { Db } from '../db/schema.js';
import type { PlanLookup } from '../plans/entitlements.js';
import type { MlClient } from '../search/ml.client.js';
import { requireFeature } from '../auth/auth.middleware.js';
import type { Impls } from '../platform/contract-router.js';
import { idempotent } from '../platform/idempotency.js';
import * as patterns from './patterns.service.js';

type PatternRoute =
  'listPatterns' | 'createPattern' | 'updatePattern' | 'deletePattern' | 'notifications' | 'readNotification';

export function patternsRoutes(
  deps: PlanLookup & { db: Db; ml: Pick<MlClient, 'checkSimilar'> },
): Impls<PatternRoute> {
  const { db } = deps;
  return {
    listPatterns: {
      handler: async ({ req }) => ({
        status: 200,
        body: { patterns: await patterns.listPatterns(db, req.auth!.userId) },
      }),
    },
    createPattern: {
      use: [requireFeature(deps, 'patterns')],
      handler: async ({ body, headers, req }) => {
        const userId = req.auth!.userId;
        await patterns.assertScannable(deps.ml, body.request, String(req.id));
        // With an Idempotency-Key the pattern and the stored answer commit together (platform/idempotency.ts).
        const answer = await idempotent(
          db,
          {
            userId,
            key: headers['idempotency-key'],
            operation: 'createPattern',
            request: body,
            now: deps.now(),
          },
          async (tx) => ({
            status: 201 as const,
            body: await patterns.createPattern({ ...deps, db: tx }, userId, body),
          }),
        );
        return {
          status: 201,
          body: answer.body,
          headers: answer.replayed ? { 'idempotent-replayed': 'true' } : undefined,
        };
      },
    },
    updatePattern: {
      handler: async ({ params, body, req }) => ({
        status: 200,
        body: await patterns.updatePattern(db, req.auth!.userId, params.id, body),
      }),
    },
    deletePattern: {
      handler: async ({ params, req }) => {
        await patterns.deletePattern(db, req.auth!.userId, params.id);
        return { status: 204 };
      },
    },
    notifications: {
      handler: async ({ req }) => ({
        status: 200,
        body: await patterns.listNotifications(db, req.auth!.userId),
      }),
    },
    readNotification: {
      handler: async ({ params, req }) => {
        await patterns.markRead(deps, req.auth!.userId, params.id);
        return { status: 200, body: { ok: true } };
      },
    },
  };
}
