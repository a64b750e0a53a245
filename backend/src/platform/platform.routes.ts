import type { AppContext } from '../context.js';
import { buildOpenApi, docsPage } from '../openapi/openapi.js';
import type { Impls } from './contract-router.js';

export function platformRoutes(ctx: AppContext): Impls<'health' | 'openapi' | 'docs' | 'plans'> {
  const openapi = buildOpenApi();
  const docs = docsPage(openapi);
  return {
    health: {
      handler: async ({ req }) => {
        let mlUp = false;
        let dataVersion: string | null = null;
        try {
          const h = await ctx.ml.health(String(req.id));
          mlUp = h.status === 'ready';
          dataVersion = h.dataVersion;
        } catch {
          mlUp = false;
        }
        return { status: 200, body: { status: 'ok', ml: mlUp ? 'up' : 'down', dataVersion } };
      },
    },
    openapi: { handler: () => ({ status: 200, body: openapi }) },
    docs: {
      handler: () => ({
        status: 200,
        text: docs,
        // The page has no scripts; only its inline style is allowed beyond the API's deny-all policy.
        headers: {
          'content-security-policy':
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        },
      }),
    },
    plans: {
      handler: () => ({
        status: 200,
        body: {
          plans: Object.values(ctx.plans),
          testMode: ctx.billing.testMode,
          providers: ctx.billing.providerIds,
        },
      }),
    },
  };
}
