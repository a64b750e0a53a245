import { describe, expect, it } from 'vitest';
import { credentialsSchema } from '@resemble/contracts';
import {
  checkEmail,
  hasErrors,
  validateLogin,
  validatePasswordChange,
  validateReset,
  validateSignup,
} from '../app/utils/validation';

describe('signup form', () => {
  const ok = { email: 'a@example.com', password: 'correct horse', confirm: 'correct horse', terms: true };
  it('accepts a valid form', () => {
    expect(validateSignup(ok)).toEqual({});
    expect(hasErrors(validateSignup(ok))).toBe(false);
  });
  it('reports every bad field at once', () => {
    expect(validateSignup({ email: 'nope', password: 'short', confirm: 'x', terms: false })).toEqual({
      email: 'email',
      password: 'passwordShort',
      confirm: 'mismatch',
      terms: 'terms',
    });
    expect(validateSignup({ ...ok, email: '  ' }).email).toBe('required');
    expect(validateSignup({ ...ok, password: 'x'.repeat(257), confirm: 'x'.repeat(257) }).password).toBe(
      'passwordLong',
    );
  });
  it('agrees with the backend contract on which credentials are valid', () => {
    const cases = [
      ['a@example.com', 'abcdefghij'],
      ['a@example.com', 'abcdefghi'],
      ['a@b', 'abcdefghijk'],
      ['no-at.example.com', 'abcdefghijk'],
      ['x y@example.com', 'abcdefghijk'],
      ['first.last+tag@sub.example.co.jp', 'p'.repeat(256)],
      ['first.last@example.com', 'p'.repeat(257)],
    ] as const;
    for (const [email, password] of cases) {
      const client = !hasErrors(validateSignup({ email, password, confirm: password, terms: true }));
      expect(client, `${email} / ${password.length}`).toBe(
        credentialsSchema.safeParse({ email, password }).success,
      );
    }
  });
});

describe('other forms', () => {
  it('login needs an email and any password', () => {
    expect(validateLogin({ email: 'a@example.com', password: 'x' })).toEqual({});
    expect(validateLogin({ email: '', password: '' })).toEqual({ email: 'required', password: 'required' });
  });
  it('password change rejects reuse and mismatches', () => {
    expect(
      validatePasswordChange({
        currentPassword: 'old password 1',
        newPassword: 'old password 1',
        confirm: 'old password 1',
      }),
    ).toEqual({ newPassword: 'samePassword' });
    expect(
      validatePasswordChange({ currentPassword: '', newPassword: 'new password 2', confirm: 'other' }),
    ).toEqual({ currentPassword: 'required', confirm: 'mismatch' });
  });
  it('reset checks the new password', () => {
    expect(validateReset({ newPassword: 'long enough!', confirm: 'long enough!' })).toEqual({});
    expect(validateReset({ newPassword: 'short', confirm: 'short' })).toEqual({
      newPassword: 'passwordShort',
    });
  });
  it('email trims surrounding spaces', () => {
    expect(checkEmail('  a@example.com ')).toBeUndefined();
  });
});
