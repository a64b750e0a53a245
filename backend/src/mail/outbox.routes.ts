/**
 * GET /dev/outbox: the mail the sandbox kept (newest first). The contract marks the route sandboxOnly:
 * app.ts mounts it only when MAIL_SANDBOX is on, which config refuses in production, so everywhere else
 * the path is an ordinary 404.
 */
import type { Executor } from '../db/schema.js';
import type { Impls } from '../platform/contract-router.js';
import { listOutboxMail } from './outbox.repo.js';

export function outboxRoutes(db: Executor): Impls<'devOutbox'> {
  return {
    devOutbox: {
      handler: async ({ query }) => ({
        status: 200,
        body: { sandbox: true, mails: await listOutboxMail(db, query.limit) },
      }),
    },
  };
}
