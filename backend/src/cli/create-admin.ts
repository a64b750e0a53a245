/**
 * Creates the first operator, or promotes an existing account:
 *   npm run create-admin -w backend -- --email ops@example.com [--password ...]
 * Without --password a strong one is generated and printed once.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { emailSchema, passwordSchema } from '@resemble/contracts';
import { loadConfig } from '../config.js';
import { openDb } from '../db/db.js';
import { PasswordHasher, weakPasswordReason } from '../auth/password.js';
import { randomToken } from '../auth/sessions.js';

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { email: { type: 'string' }, password: { type: 'string' } } });
  const email = emailSchema.safeParse(values.email ?? '');
  if (!email.success) {
    console.error('usage: create-admin --email <address> [--password <at least 10 chars>]');
    return 2;
  }
  const generated = values.password === undefined;
  const password = values.password ?? randomToken(18);
  const pw = passwordSchema.safeParse(password);
  const weak = weakPasswordReason(password, email.data);
  if (!pw.success || weak) {
    console.error(`create-admin: ${weak ?? pw.error?.issues[0].message}`);
    return 2;
  }
  const config = loadConfig();
  const db = await openDb(config.storage.appDb);
  try {
    const existing = db.prepare('SELECT id FROM users WHERE email = ?').get(email.data) as
      { id: string } | undefined;
    if (existing) {
      db.prepare("UPDATE users SET role = 'admin' WHERE id = ?").run(existing.id);
      console.log(`create-admin: ${email.data} is now an admin (password unchanged)`);
      return 0;
    }
    const hash = await new PasswordHasher(config.auth.scryptLogN, 1).hash(password);
    db.prepare(
      "INSERT INTO users (id, email, password_hash, email_verified, role, created_at) VALUES (?, ?, ?, 1, 'admin', ?)",
    ).run(randomUUID(), email.data, hash, new Date().toISOString());
    console.log(
      `create-admin: created admin ${email.data}${generated ? `\npassword (shown once): ${password}` : ''}`,
    );
    return 0;
  } finally {
    db.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`create-admin: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
