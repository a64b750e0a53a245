/** Personal API tokens (Pro): shown once at creation, stored as SHA-256, scoped, revocable. */
import { randomUUID } from 'node:crypto';
import * as tokens from './api-tokens.repo.js';
import { tokenSearchesOn } from './token-usage.repo.js';
import { currentPlan } from '../plans/entitlements.js';
import { nextUtcMidnight, utcDay } from '../plans/usage.service.js';
import type { ApiScope } from '@resemble/contracts';
import type { PlanLookup } from '../plans/entitlements.js';
import type { QuotaStore } from '../shared/shared-state.js';
import { API_TOKEN_PREFIX, requireFeature } from '../auth/auth.middleware.js';
import { randomToken, sha256 } from '../auth/sessions.js';
import { AppError, notFound } from '../platform/errors.js';
import type { Impls } from '../platform/contract-router.js';

const MAX_TOKENS = 20;

interface TokenRow {
  id: string;
  name: string;
  scopes: string;
  created_at: string;
  last_used_at: string | null;
}
const view = (t: TokenRow, searchesToday = 0) => ({
  id: t.id,
  name: t.name,
  scopes: JSON.parse(t.scopes) as ApiScope[],
  createdAt: t.created_at,
  lastUsedAt: t.last_used_at,
  searchesToday,
});

/** What the token routes use: the plan lookup and, for the quota, today's count of the account's searches. */
export interface TokensDeps extends PlanLookup {
  usage: Pick<QuotaStore, 'searchesToday'>;
}

/**
 * Session only (the contract): an API token must not mint or list other tokens. The quota is open to any
 * token too: it says only what the account has left and what this token used.
 */
export function tokensRoutes(
  deps: TokensDeps,
): Impls<'listTokens' | 'createToken' | 'revokeToken' | 'quota'> {
  const { db, now } = deps;
  return {
    listTokens: {
      handler: async ({ req }) => {
        const userId = req.auth!.userId;
        const [rows, used] = await Promise.all([
          tokens.activeTokensOfUser(db, userId),
          tokenSearchesOn(db, userId, utcDay(now())),
        ]);
        return { status: 200, body: { tokens: rows.map((t) => view(t, used.get(t.id) ?? 0)) } };
      },
    },

    quota: {
      handler: async ({ req }) => {
        const { userId, tokenId } = req.auth!;
        const at = now();
        const [plan, used, perToken] = await Promise.all([
          currentPlan(db, deps.plans, userId, at),
          deps.usage.searchesToday(userId),
          tokenId ? tokenSearchesOn(db, userId, utcDay(at)) : undefined,
        ]);
        const limit = plan.limits.searchesPerDay;
        const own = tokenId
          ? (await tokens.activeTokensOfUser(db, userId)).find((t) => t.id === tokenId)
          : undefined;
        return {
          status: 200,
          body: {
            plan: plan.id,
            searches: {
              used,
              limit,
              remaining: limit === null ? null : Math.max(0, limit - used),
              resetsAt: nextUtcMidnight(at),
            },
            ratePerMinute: plan.limits.ratePerMinute,
            token: own ? { id: own.id, name: own.name, searchesToday: perToken?.get(own.id) ?? 0 } : null,
          },
        };
      },
    },

    createToken: {
      use: [requireFeature(deps, 'apiTokens')],
      handler: async ({ body, req }) => {
        const userId = req.auth!.userId;
        const active = await tokens.countActiveTokens(db, userId);
        if (active >= MAX_TOKENS)
          throw new AppError(409, 'too_many_tokens', `at most ${MAX_TOKENS} active tokens; revoke one first`);
        const token = `${API_TOKEN_PREFIX}${randomToken(32)}`;
        const row: TokenRow = {
          id: randomUUID(),
          name: body.name,
          scopes: JSON.stringify([...new Set(body.scopes)]),
          created_at: new Date(now()).toISOString(),
          last_used_at: null,
        };
        await tokens.insertToken(db, {
          id: row.id,
          userId,
          name: row.name,
          tokenHash: sha256(token),
          scopes: row.scopes,
          createdAt: row.created_at,
        });
        return { status: 201, body: { ...view(row), token } };
      },
    },

    revokeToken: {
      handler: async ({ params, req }) => {
        if (!(await tokens.revokeToken(db, req.auth!.userId, params.id, new Date(now()).toISOString())))
          throw notFound('no such token');
        return { status: 204 };
      },
    },
  };
}
