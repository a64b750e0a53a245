/** Personal API tokens (Pro): shown once at creation, stored as SHA-256, scoped, revocable. */
import { randomUUID } from 'node:crypto';
import * as tokens from './api-tokens.repo.js';
import { Router } from 'express';
import { createApiTokenSchema } from '@resemble/contracts';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { API_TOKEN_PREFIX, requireAuth, requireFeature } from '../auth/auth.middleware.js';
import { randomToken, sha256 } from '../auth/sessions.js';
import { AppError, notFound } from '../platform/errors.js';
import { parse } from '../platform/validate.js';

const MAX_TOKENS = 20;
const idParam = z.object({ id: z.uuid('id must be a UUID') });

interface TokenRow {
  id: string;
  name: string;
  scopes: string;
  created_at: string;
  last_used_at: string | null;
}
const view = (t: TokenRow) => ({ id: t.id, name: t.name, scopes: JSON.parse(t.scopes) as string[], createdAt: t.created_at, lastUsedAt: t.last_used_at });

export function tokensRoutes(ctx: AppContext): Router {
  const r = Router();
  // Session only: an API token must not mint or list other tokens.
  const auth = requireAuth();

  const db = ctx.database.kysely;
  r.get('/', auth, async (req, res) => {
    const rows = await tokens.activeTokensOfUser(db, req.auth!.userId);
    res.json({ tokens: rows.map(view) });
  });

  r.post('/', auth, requireFeature(ctx, 'apiTokens'), async (req, res) => {
    const body = parse(createApiTokenSchema, req.body, 'body');
    const userId = req.auth!.userId;
    const active = await tokens.countActiveTokens(db, userId);
    if (active >= MAX_TOKENS) throw new AppError(409, 'too_many_tokens', `at most ${MAX_TOKENS} active tokens; revoke one first`);
    const token = `${API_TOKEN_PREFIX}${randomToken(32)}`;
    const row: TokenRow = { id: randomUUID(), name: body.name, scopes: JSON.stringify([...new Set(body.scopes)]), created_at: new Date(ctx.now()).toISOString(), last_used_at: null };
    await tokens.insertToken(db, { id: row.id, userId, name: row.name, tokenHash: sha256(token), scopes: row.scopes, createdAt: row.created_at });
    res.status(201).json({ ...view(row), token });
  });

  r.delete('/:id', auth, async (req, res) => {
    const { id } = parse(idParam, req.params, 'path');
    if (!(await tokens.revokeToken(db, req.auth!.userId, id, new Date(ctx.now()).toISOString()))) throw notFound('no such token');
    res.status(204).end();
  });
  return r;
}
