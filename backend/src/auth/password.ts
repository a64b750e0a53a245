/**
 * scrypt from node:crypto. Hashing is deliberately slow, so at most `concurrency` hashes run at once:
 * a login flood queues here instead of starving the thread pool that every other request needs.
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const KEY_LEN = 32;

function scrypt(password: string, salt: Buffer, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((ok, fail) =>
    scryptCb(password.normalize('NFKC'), salt, KEY_LEN, opts, (e, key) => (e ? fail(e) : ok(key))),
  );
}

class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly max: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

export class PasswordHasher {
  private readonly gate: Semaphore;
  constructor(
    private readonly logN: number,
    concurrency: number,
  ) {
    this.gate = new Semaphore(concurrency);
  }

  /** Format: scrypt$logN$r$p$salt$key (base64url), so cost can rise later without breaking old hashes. */
  hash(password: string): Promise<string> {
    return this.gate.run(async () => {
      const salt = randomBytes(16);
      const key = await scrypt(password, salt, this.opts(this.logN));
      return ['scrypt', this.logN, 8, 1, salt.toString('base64url'), key.toString('base64url')].join('$');
    });
  }

  verify(password: string, stored: string): Promise<boolean> {
    return this.gate.run(async () => {
      const [alg, logN, , , salt, key] = stored.split('$');
      if (alg !== 'scrypt' || !salt || !key) return false;
      const expected = Buffer.from(key, 'base64url');
      const actual = await scrypt(password, Buffer.from(salt, 'base64url'), this.opts(Number(logN)));
      return actual.length === expected.length && timingSafeEqual(actual, expected);
    });
  }

  /** Spends the same time as a real check, so an unknown email cannot be told apart by latency. */
  async dummyVerify(password: string): Promise<void> {
    await this.verify(password, (this.dummy ??= await this.hash('dummy-password-for-timing')));
  }
  private dummy?: string;

  private opts(logN: number): ScryptOptions {
    return { N: 2 ** logN, r: 8, p: 1, maxmem: 256 * 2 ** logN * 8 + 1024 * 1024 };
  }
}

const common = new Set(
  readFileSync(resolve(import.meta.dirname, 'common-passwords.txt'), 'utf8')
    .split('\n')
    .map((l) => l.trim().toLowerCase())
    .filter((l) => l && !l.startsWith('#')),
);

/** Why a password is refused, or null when it is acceptable. Length limits live in the contract schema. */
export function weakPasswordReason(password: string, email?: string): string | null {
  const lower = password.toLowerCase();
  if (common.has(lower)) return 'this password is one of the most commonly used; choose another';
  if (/^(.)\1+$/.test(password)) return 'a password of one repeated character is too easy to guess';
  if (email && lower.includes(email.split('@')[0].toLowerCase()) && email.split('@')[0].length >= 4) {
    return 'the password must not contain your email name';
  }
  return null;
}
