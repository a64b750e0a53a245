/**
 * Form checks run before a request so the user sees problems at once; the rules mirror
 * contracts/src/api.ts (emailSchema, passwordSchema), which backend enforces again. Values are i18n
 * keys under `form.errors`.
 */
export const PASSWORD_MIN = 10;
export const PASSWORD_MAX = 256;

export type FieldErrors<K extends string> = Partial<Record<K, string>>;

// The same shape zod's .email() accepts in practice: one @, a dot in the domain, no spaces.
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function checkEmail(email: string): string | undefined {
  const v = email.trim();
  if (!v) return 'required';
  if (v.length > 254 || !EMAIL_RE.test(v)) return 'email';
  return undefined;
}

export function checkPassword(pw: string): string | undefined {
  if (!pw) return 'required';
  if (pw.length < PASSWORD_MIN) return 'passwordShort';
  if (pw.length > PASSWORD_MAX) return 'passwordLong';
  return undefined;
}

function compact<K extends string>(e: Record<K, string | undefined>): FieldErrors<K> {
  return Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined)) as FieldErrors<K>;
}

export function validateLogin(f: { email: string; password: string }) {
  return compact({ email: checkEmail(f.email), password: f.password ? undefined : 'required' });
}

export function validateSignup(f: { email: string; password: string; confirm: string; terms: boolean }) {
  return compact({
    email: checkEmail(f.email),
    password: checkPassword(f.password),
    confirm: f.confirm === f.password ? undefined : 'mismatch',
    terms: f.terms ? undefined : 'terms',
  });
}

export function validatePasswordChange(f: { currentPassword: string; newPassword: string; confirm: string }) {
  return compact({
    currentPassword: f.currentPassword ? undefined : 'required',
    newPassword:
      checkPassword(f.newPassword) ?? (f.newPassword === f.currentPassword ? 'samePassword' : undefined),
    confirm: f.confirm === f.newPassword ? undefined : 'mismatch',
  });
}

export function validateReset(f: { newPassword: string; confirm: string }) {
  return compact({
    newPassword: checkPassword(f.newPassword),
    confirm: f.confirm === f.newPassword ? undefined : 'mismatch',
  });
}

export function hasErrors(e: object): boolean {
  return Object.keys(e).length > 0;
}
