/** Saved patterns, notifications, and the scan that turns a fresh data version into alerts. */
import { randomUUID } from 'node:crypto';
import { similarRequestSchema, similarResponseSchema, type SimilarRequest } from '@resemble/contracts';
import type { Logger } from 'pino';
import type { Db } from '../db/schema.js';
import { findUser } from '../auth/auth.service.js';
import type { Mailer } from '../mail/mailer.js';
import { AppError, notFound } from '../platform/errors.js';
import { currentPlan, type PlanLookup } from '../plans/entitlements.js';
import type { MlClient } from '../search/ml.client.js';
import type { EventBus } from '../shared/shared-state.js';
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

/** What the pattern scan uses beyond the plan lookup: ml-service, the user's streams, mail and a log. */
export interface ScanDeps extends PlanLookup {
  db: Db;
  ml: Pick<MlClient, 'similar'>;
  events: Pick<EventBus, 'publish'>;
  mailer: Pick<Mailer, 'send'>;
  log: Logger;
  /** The browser-facing origin the alert mail links to. */
  publicUrl: string;
}

export const patternView = (p: PatternRow) => ({
  id: p.id,
  name: p.name,
  request: JSON.parse(p.request) as unknown,
  threshold: p.threshold,
  lastScannedVersion: p.last_scanned_version,
  createdAt: p.created_at,
});

/**
 * A pattern is saved only when the nightly scan could run it: ml-service checks the request as the scan
 * sends it (mode "now"), so an unknown filter or code is the user's 4xx now, not a log line every night.
 * Called before the save's transaction, which must not wait on another service.
 */
export async function assertScannable(
  ml: Pick<MlClient, 'checkSimilar'>,
  request: SimilarRequest,
  requestId?: string,
): Promise<void> {
  await ml.checkSimilar(scanRequest(request), requestId);
}

/** What the nightly scan sends for a saved request: the latest data (mode "now"). */
const scanRequest = (request: object): SimilarRequest =>
  similarRequestSchema.parse({ ...request, mode: 'now' });

export async function createPattern(
  deps: PlanLookup,
  userId: string,
  input: { name: string; request: SimilarRequest; threshold: number },
) {
  const { db, now } = deps;
  assertSimilarAllowed(await currentPlan(db, deps.plans, userId, now()), input.request);
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
    created_at: new Date(now()).toISOString(),
  };
  await patterns.insertPattern(db, row);
  return patternView(row);
}

export async function listPatterns(db: Db, userId: string) {
  return (await patterns.patternsOfUser(db, userId)).map(patternView);
}

export async function updatePattern(
  db: Db,
  userId: string,
  id: string,
  changes: { name?: string; threshold?: number },
) {
  const row = await patterns.updatePattern(db, userId, id, changes);
  if (!row) throw notFound('no such pattern');
  return patternView(row);
}

export async function deletePattern(db: Db, userId: string, id: string): Promise<void> {
  if (!(await patterns.deletePattern(db, userId, id))) throw notFound('no such pattern');
}

export async function listNotifications(db: Db, userId: string) {
  const rows = await notificationsOfUser(db, userId);
  const unread = await countUnread(db, userId);
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

export async function markRead(
  deps: Pick<PlanLookup, 'db' | 'now'>,
  userId: string,
  id: string,
): Promise<void> {
  if (!(await markNotificationRead(deps.db, userId, id, new Date(deps.now()).toISOString())))
    throw notFound('no such notification');
}

/**
 * For every pattern not yet scanned at `dataVersion`, search the latest data (mode "now"); when the best
 * match is within the owner's threshold, notify. Marking the version scanned makes re-runs harmless.
 */
export async function scanPatterns(
  deps: ScanDeps,
  dataVersion: string,
): Promise<{ scanned: number; fired: number }> {
  const { db, now } = deps;
  const due = await patterns.patternsNotScannedAt(db, dataVersion);
  let fired = 0;
  for (const p of due) {
    const plan = await currentPlan(db, deps.plans, p.user_id, now());
    if (plan.features.patterns) {
      try {
        const req = scanRequest(JSON.parse(p.request) as object);
        const res = similarResponseSchema.parse(await deps.ml.similar(req));
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
            const at = new Date(now()).toISOString();
            await addNotification(trx, { id, userId: p.user_id, kind: 'alert', payload }, at);
            await patterns.markScanned(trx, p.id, dataVersion);
          });
          deps.events.publish(p.user_id, { type: 'alert.fired', data: { id, ...payload } });
          const user = await findUser(deps, p.user_id);
          // Always through the mailer: SMTP when configured, else the log and (sandbox) the outbox.
          if (user)
            await deps.mailer.send(alertMail(deps.publicUrl, user.email, p.name, best, res.asOf ?? null));
          fired++;
        }
      } catch (err) {
        deps.log.warn(
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
  publicUrl: string,
  to: string,
  patternName: string,
  match: { code: string; start: string; end: string; distance: number },
  asOf: string | null,
) {
  const link = new URL('/app/patterns', publicUrl).toString();
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
