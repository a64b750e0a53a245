import type { AppContext } from '../context.js';
import { requireFeature } from '../auth/auth.middleware.js';
import type { Impls } from '../platform/contract-router.js';
import * as patterns from './patterns.service.js';

type PatternRoute = 'listPatterns' | 'createPattern' | 'deletePattern' | 'notifications' | 'readNotification';

export function patternsRoutes(ctx: AppContext): Impls<PatternRoute> {
  return {
    listPatterns: {
      handler: ({ req }) => ({
        status: 200,
        body: { patterns: patterns.listPatterns(ctx, req.auth!.userId) },
      }),
    },
    createPattern: {
      use: [requireFeature(ctx, 'patterns')],
      handler: ({ body, req }) => ({
        status: 201,
        body: patterns.createPattern(ctx, req.auth!.userId, body),
      }),
    },
    deletePattern: {
      handler: ({ params, req }) => {
        patterns.deletePattern(ctx, req.auth!.userId, params.id);
        return { status: 204 };
      },
    },
    notifications: {
      handler: ({ req }) => ({ status: 200, body: patterns.listNotifications(ctx, req.auth!.userId) }),
    },
    readNotification: {
      handler: ({ params, req }) => {
        patterns.markRead(ctx, req.auth!.userId, params.id);
        return { status: 200, body: { ok: true } };
      },
    },
  };
}
