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

export async function updatePattern(
  ctx: AppContext,
  userId: string,
  id: string,
  changes: { name?: string; threshold?: number },
) {
  const row = await patterns.updatePattern(ctx.database.kysely, userId, id, changes);
  if (!row) throw notFound('no such pattern');
  return patternView(row);
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
          // Always through the mailer: SMTP when configured, else the log and (sandbox) the outbox.
          if (user) await ctx.mailer.send(alertMail(ctx, user.email, p.name, best, res.asOf ?? null));
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

/** The alert mail, Japanese first then English (the account keeps no language), naming the data date. */
export function alertMail(
  ctx: AppContext,
  to: string,
  patternName: string,
  match: { code: string; start: string; end: string; distance: number },
  asOf: string | null,
) {
  const link = new URL('/app/patterns', ctx.config.server.publicUrl).toString();
  const window = `${match.start} – ${match.end}`;
  const text = [
    `保存したパターン「${patternName}」に似た値動きが見つかりました。`,
    `銘柄 ${match.code}、期間 ${window}（データ日付 ${asOf ?? '不明'}）。距離 ${match.distance.toFixed(3)}。`,
    `アラート一覧: ${link}`,
    '',
    `A chart resembling your saved pattern "${patternName}" was found:`,
    `${match.code}, ${window}, on data as of ${asOf ?? 'an unknown date'} (distance ${match.distance.toFixed(3)}).`,
    `Your alerts: ${link}`,
    '',
    '投資助言ではありません。 Not investment advice.',
  ].join('\n');
  return {
    to,
    subject: `Resemble アラート / alert: ${patternName} (${match.code}, ${asOf ?? '?'})`,
    text,
    link,
  };
}
