/**
 * Creates the first operator, or promotes an existing account:
 *   npm run create-admin -w backend -- --email ops@example.com [--password ...]
 * Without --password a strong one is generated and printed once.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { emailSchema, passwordSchema } from '@resemble/contracts';
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { findUserByEmail, insertUser, makeAdmin } from '../auth/users.repo.js';
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
  const database = openDatabase(config.storage.database, 1);
  const db = database.kysely;
  try {
    await migrateToLatest(database);
    const existing = await findUserByEmail(db, email.data);
    if (existing) {
      await makeAdmin(db, existing.id);
      console.log(`create-admin: ${email.data} is now an admin (password unchanged)`);
      return 0;
    }
    const hash = await new PasswordHasher(config.auth.scryptLogN, 1).hash(password);
    await insertUser(db, {
      id: randomUUID(),
      email: email.data,
      password_hash: hash,
      email_verified: 1,
      role: 'admin',
      created_at: new Date().toISOString(),
    });
    console.log(
      `create-admin: created admin ${email.data}${generated ? `\npassword (shown once): ${password}` : ''}`,
    );
    return 0;
  } finally {
    await database.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`create-admin: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
