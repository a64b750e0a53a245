import type { AppContext } from '../context.js';
import { requireFeature } from '../auth/auth.middleware.js';
import type { Impls } from '../platform/contract-router.js';
import * as patterns from './patterns.service.js';

type PatternRoute =
  'listPatterns' | 'createPattern' | 'updatePattern' | 'deletePattern' | 'notifications' | 'readNotification';

export function patternsRoutes(ctx: AppContext): Impls<PatternRoute> {
  return {
    listPatterns: {
      handler: async ({ req }) => ({
        status: 200,
        body: { patterns: await patterns.listPatterns(ctx, req.auth!.userId) },
      }),
    },
    createPattern: {
      use: [requireFeature(ctx, 'patterns')],
      handler: async ({ body, req }) => ({
        status: 201,
        body: await patterns.createPattern(ctx, req.auth!.userId, body),
      }),
    },
    updatePattern: {
      handler: async ({ params, body, req }) => ({
        status: 200,
        body: await patterns.updatePattern(ctx, req.auth!.userId, params.id, body),
      }),
    },
    deletePattern: {
      handler: async ({ params, req }) => {
        await patterns.deletePattern(ctx, req.auth!.userId, params.id);
        return { status: 204 };
      },
    },
    notifications: {
      handler: async ({ req }) => ({
        status: 200,
        body: await patterns.listNotifications(ctx, req.auth!.userId),
      }),
    },
    readNotification: {
      handler: async ({ params, req }) => {
        await patterns.markRead(ctx, req.auth!.userId, params.id);
        return { status: 200, body: { ok: true } };
      },
    },
  };
}
