/** Personal API tokens (Pro): shown once at creation, stored as SHA-256, scoped, revocable. */
import { randomUUID } from 'node:crypto';
import * as tokens from './api-tokens.repo.js';
import type { ApiScope } from '@resemble/contracts';
import type { PlanLookup } from '../plans/entitlements.js';
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
const view = (t: TokenRow) => ({
  id: t.id,
  name: t.name,
  scopes: JSON.parse(t.scopes) as ApiScope[],
  createdAt: t.created_at,
  lastUsedAt: t.last_used_at,
});

/** Session only (the contract): an API token must not mint or list other tokens. */
export function tokensRoutes(deps: PlanLookup): Impls<'listTokens' | 'createToken' | 'revokeToken'> {
  const { db, now } = deps;
  return {
    listTokens: {
      handler: async ({ req }) => {
        const rows = await tokens.activeTokensOfUser(db, req.auth!.userId);
        return { status: 200, body: { tokens: rows.map(view) } };
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
