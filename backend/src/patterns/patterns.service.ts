/** Saved patterns, notifications, and the scan that turns a fresh data version into alerts. */
import { randomUUID } from 'node:crypto';
import { similarRequestSchema, similarResponseSchema, type SimilarRequest } from '@resemble/contracts';
import type { AppContext } from '../context.js';
import { findUser } from '../auth/auth.service.js';
import { AppError, notFound } from '../platform/errors.js';
import { currentPlan } from '../plans/entitlements.js';
import { assertSimilarAllowed } from '../search/search.service.js';
import * as patterns from './patterns.repo.js';
import type { PatternRow } from './patterns.repo.js';
import {
  addNotification,
  countUnread,
  markNotificationRead,
  notificationsOfUser,
} from './notifications.repo.js';

const MAX_PATTERNS = 50;

export const patternView = (p: PatternRow) => ({
  id: p.id,
  name: p.name,
  request: JSON.parse(p.request) as unknown,
  threshold: p.threshold,
  lastScannedVersion: p.last_scanned_version,
  createdAt: p.created_at,
});

export async function createPattern(
  ctx: AppContext,
  userId: string,
  input: { name: string; request: SimilarRequest; threshold: number },
) {
  const db = ctx.database.kysely;
  assertSimilarAllowed(await currentPlan(db, ctx.plans, userId, ctx.now()), input.request);
  const count = await patterns.countPatterns(db, userId);
  if (count >= MAX_PATTERNS)
    throw new AppError(409, 'too_many_patterns', `at most ${MAX_PATTERNS} saved patterns per account`);
  const row: PatternRow = {
    id: randomUUID(),
    user_id: userId,
    name: input.name,
    request: JSON.stringify(input.request),
    threshold: input.threshold,
    last_scanned_version: null,
    created_at: new Date(ctx.now()).toISOString(),
  };
  await patterns.insertPattern(db, row);
  return patternView(row);
}

export async function listPatterns(ctx: AppContext, userId: string) {
  return (await patterns.patternsOfUser(ctx.database.kysely, userId)).map(patternView);
}

export async function deletePattern(ctx: AppContext, userId: string, id: string): Promise<void> {
  if (!(await patterns.deletePattern(ctx.database.kysely, userId, id))) throw notFound('no such pattern');
}

export async function listNotifications(ctx: AppContext, userId: string) {
  const rows = await notificationsOfUser(ctx.database.kysely, userId);
  const unread = await countUnread(ctx.database.kysely, userId);
  return {
    notifications: rows.map((n) => ({
      id: n.id,
      kind: n.kind,
      payload: JSON.parse(n.payload) as unknown,
      createdAt: n.created_at,
      readAt: n.read_at,
    })),
    unread,
  };
}

export async function markRead(ctx: AppContext, userId: string, id: string): Promise<void> {
  if (!(await markNotificationRead(ctx.database.kysely, userId, id, new Date(ctx.now()).toISOString())))
    throw notFound('no such notification');
}

/**
 * For every pattern not yet scanned at `dataVersion`, search the latest data (mode "now"); when the best
 * match is within the owner's threshold, notify. Marking the version scanned makes re-runs harmless.
 */
export async function scanPatterns(
  ctx: AppContext,
  dataVersion: string,
): Promise<{ scanned: number; fired: number }> {
  const db = ctx.database.kysely;
  const due = await patterns.patternsNotScannedAt(db, dataVersion);
  let fired = 0;
  for (const p of due) {
    const plan = await currentPlan(db, ctx.plans, p.user_id, ctx.now());
    if (plan.features.patterns) {
      try {
        const req = similarRequestSchema.parse({ ...(JSON.parse(p.request) as object), mode: 'now' });
        const res = similarResponseSchema.parse(await ctx.ml.similar(req));
        const best = res.matches[0];
        if (best && best.distance <= p.threshold) {
          // asOf: the newest price the "now" search saw, so the alert says which day "now" was.
          const payload = {
            patternId: p.id,
            patternName: p.name,
            timeframe: res.timeframe,
            match: { code: best.code, start: best.start, end: best.end, distance: best.distance },
            dataVersion,
            asOf: res.asOf,
          };
          const id = randomUUID();
          // Notification and "scanned at this version" together: a crash cannot alert twice or never.
          await db.transaction().execute(async (trx) => {
            const at = new Date(ctx.now()).toISOString();
            await addNotification(trx, { id, userId: p.user_id, kind: 'alert', payload }, at);
            await patterns.markScanned(trx, p.id, dataVersion);
          });
          ctx.events.publish(p.user_id, { type: 'alert.fired', data: { id, ...payload } });
          const user = await findUser(ctx, p.user_id);
          if (user && ctx.config.mail.smtpUrl) {
            await ctx.mailer.send({
              to: user.email,
              subject: `Resemble alert: ${p.name}`,
              text: `${best.code} ${best.start}..${best.end} resembles your pattern "${p.name}" (distance ${best.distance.toFixed(3)}), on data as of ${res.asOf ?? 'an unknown date'}.`,
            });
          }
          fired++;
        }
      } catch (err) {
        ctx.log.warn(
          { pattern: p.id, err: err instanceof Error ? err.message : String(err) },
          'pattern scan failed; will retry next version',
        );
        continue;
      }
    }
    await patterns.markScanned(db, p.id, dataVersion);
  }
  return { scanned: due.length, fired };
}
