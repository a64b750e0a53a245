/** Saved patterns, notifications, and the scan that turns a fresh data version into alerts. */
import { randomUUID } from 'node:crypto';
import { similarRequestSchema, similarResponseSchema, type SimilarRequest } from '@resemble/contracts';
import type { AppContext } from '../context.js';
import { findUser } from '../auth/auth.service.js';
import { AppError, notFound } from '../platform/errors.js';
import { currentPlan } from '../plans/entitlements.js';
import { assertSimilarAllowed } from '../search/search.service.js';
import { updatePatternRow } from './patterns.repo.js';

const MAX_PATTERNS = 50;

interface PatternRow {
  id: string;
  user_id: string;
  name: string;
  request: string;
  threshold: number;
  last_scanned_version: string | null;
  created_at: string;
}

export const patternView = (p: PatternRow) => ({
  id: p.id,
  name: p.name,
  request: JSON.parse(p.request) as unknown,
  threshold: p.threshold,
  lastScannedVersion: p.last_scanned_version,
  createdAt: p.created_at,
});

export function createPattern(
  ctx: AppContext,
  userId: string,
  input: { name: string; request: SimilarRequest; threshold: number },
) {
  assertSimilarAllowed(currentPlan(ctx.db, ctx.plans, userId, ctx.now()), input.request);
  const count = (
    ctx.db.prepare('SELECT COUNT(*) AS n FROM patterns WHERE user_id = ?').get(userId) as { n: number }
  ).n;
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
  ctx.db
    .prepare(
      'INSERT INTO patterns (id, user_id, name, request, threshold, last_scanned_version, created_at) VALUES (@id, @user_id, @name, @request, @threshold, @last_scanned_version, @created_at)',
    )
    .run(row);
  return patternView(row);
}

export function listPatterns(ctx: AppContext, userId: string) {
  return (
    ctx.db
      .prepare('SELECT * FROM patterns WHERE user_id = ? ORDER BY created_at DESC')
      .all(userId) as PatternRow[]
  ).map(patternView);
}

export function updatePattern(
  ctx: AppContext,
  userId: string,
  id: string,
  changes: { name?: string; threshold?: number },
) {
  const row = updatePatternRow<PatternRow>(ctx.db, userId, id, changes);
  if (!row) throw notFound('no such pattern');
  return patternView(row);
}

export function deletePattern(ctx: AppContext, userId: string, id: string): void {
  if (ctx.db.prepare('DELETE FROM patterns WHERE id = ? AND user_id = ?').run(id, userId).changes === 0)
    throw notFound('no such pattern');
}

export function listNotifications(ctx: AppContext, userId: string) {
  const rows = ctx.db
    .prepare('SELECT * FROM notifications WHERE user_id = ? ORDER BY created_at DESC LIMIT 100')
    .all(userId) as {
    id: string;
    kind: string;
    payload: string;
    created_at: string;
    read_at: string | null;
  }[];
  const unread = (
    ctx.db
      .prepare('SELECT COUNT(*) AS n FROM notifications WHERE user_id = ? AND read_at IS NULL')
      .get(userId) as { n: number }
  ).n;
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

export function markRead(ctx: AppContext, userId: string, id: string): void {
  const r = ctx.db
    .prepare('UPDATE notifications SET read_at = COALESCE(read_at, ?) WHERE id = ? AND user_id = ?')
    .run(new Date(ctx.now()).toISOString(), id, userId);
  if (r.changes === 0) throw notFound('no such notification');
}

/**
 * For every pattern not yet scanned at `dataVersion`, search the latest data (mode "now"); when the best
 * match is within the owner's threshold, notify. Marking the version scanned makes re-runs harmless.
 */
export async function scanPatterns(
  ctx: AppContext,
  dataVersion: string,
): Promise<{ scanned: number; fired: number }> {
  const due = ctx.db
    .prepare('SELECT * FROM patterns WHERE last_scanned_version IS NULL OR last_scanned_version != ?')
    .all(dataVersion) as PatternRow[];
  let fired = 0;
  for (const p of due) {
    const plan = currentPlan(ctx.db, ctx.plans, p.user_id, ctx.now());
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
          ctx.db.transaction(() => {
            ctx.db
              .prepare(
                "INSERT INTO notifications (id, user_id, kind, payload, created_at) VALUES (?, ?, 'alert', ?, ?)",
              )
              .run(id, p.user_id, JSON.stringify(payload), new Date(ctx.now()).toISOString());
            ctx.db
              .prepare('UPDATE patterns SET last_scanned_version = ? WHERE id = ?')
              .run(dataVersion, p.id);
          })();
          ctx.events.publish(p.user_id, { type: 'alert.fired', data: { id, ...payload } });
          const user = findUser(ctx, p.user_id);
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
    ctx.db.prepare('UPDATE patterns SET last_scanned_version = ? WHERE id = ?').run(dataVersion, p.id);
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
