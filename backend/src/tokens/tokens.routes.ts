/** Personal API tokens (Pro): shown once at creation, stored as SHA-256, scoped, revocable. */
import { randomUUID } from 'node:crypto';
import type { ApiScope } from '@resemble/contracts';
import type { AppContext } from '../context.js';
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
export function tokensRoutes(ctx: AppContext): Impls<'listTokens' | 'createToken' | 'revokeToken'> {
  return {
    listTokens: {
      handler: ({ req }) => {
        const rows = ctx.db
          .prepare(
            'SELECT * FROM api_tokens WHERE user_id = ? AND revoked_at IS NULL ORDER BY created_at DESC',
          )
          .all(req.auth!.userId) as TokenRow[];
        return { status: 200, body: { tokens: rows.map(view) } };
      },
    },

    createToken: {
      use: [requireFeature(ctx, 'apiTokens')],
      handler: ({ body, req }) => {
        const userId = req.auth!.userId;
        const active = (
          ctx.db
            .prepare('SELECT COUNT(*) AS n FROM api_tokens WHERE user_id = ? AND revoked_at IS NULL')
            .get(userId) as { n: number }
        ).n;
        if (active >= MAX_TOKENS)
          throw new AppError(409, 'too_many_tokens', `at most ${MAX_TOKENS} active tokens; revoke one first`);
        const token = `${API_TOKEN_PREFIX}${randomToken(32)}`;
        const row: TokenRow = {
          id: randomUUID(),
          name: body.name,
          scopes: JSON.stringify([...new Set(body.scopes)]),
          created_at: new Date(ctx.now()).toISOString(),
          last_used_at: null,
        };
        ctx.db
          .prepare(
            'INSERT INTO api_tokens (id, user_id, name, token_hash, scopes, created_at) VALUES (?,?,?,?,?,?)',
          )
          .run(row.id, userId, row.name, sha256(token), row.scopes, row.created_at);
        return { status: 201, body: { ...view(row), token } };
      },
    },

    revokeToken: {
      handler: ({ params, req }) => {
        const r2 = ctx.db
          .prepare('UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL')
          .run(new Date(ctx.now()).toISOString(), params.id, req.auth!.userId);
        if (r2.changes === 0) throw notFound('no such token');
        return { status: 204 };
      },
    },
  };
}
