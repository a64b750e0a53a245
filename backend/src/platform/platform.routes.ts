import type { PlanId } from '@resemble/contracts';
import type { BillingService } from '../billing/billing.service.js';
import type { Plan } from '../plans/plans.js';
import type { MlClient } from '../search/ml.client.js';
import { buildOpenApi, docsPage } from '../openapi/openapi.js';
import type { Impls } from './contract-router.js';

export function platformRoutes(deps: {
  ml: Pick<MlClient, 'health'>;
  plans: Record<PlanId, Plan>;
  billing: Pick<BillingService, 'testMode' | 'providerIds'>;
}): Impls<'health' | 'openapi' | 'docs' | 'plans'> {
  const { ml, plans, billing } = deps;
  const openapi = buildOpenApi();
  const docs = docsPage(openapi);
  return {
    health: {
      handler: async ({ req }) => {
        let mlUp = false;
        let dataVersion: string | null = null;
        try {
          const h = await ml.health(String(req.id));
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
          plans: Object.values(plans),
          testMode: billing.testMode,
          providers: billing.providerIds,
        },
      }),
    },
  };
}
