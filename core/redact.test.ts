import { describe, expect, it } from 'vitest';
import { REDACTED, redact, redactText } from './redact';

describe('redact', () => {
  it('drops values under sensitive keys at any depth', () => {
    expect(
      redact({
        user: { password: 'hunter2', name: 'ada' },
        headers: { Authorization: 'x', accept: '*/*' },
      }),
    ).toEqual({
      user: { password: REDACTED, name: 'ada' },
      headers: { Authorization: REDACTED, accept: '*/*' },
    });
  });

  it('masks credentials and e-mail addresses inside free text', () => {
    expect(redactText('connect postgres://admin:s3cret@db:5432 as ada.lovelace@example.com')).toBe(
      'connect postgres://[redacted]@db:5432 as a***@example.com',
    );
    expect(redactText('sent Authorization: Bearer abc.def.ghi')).toBe(
      'sent Authorization: Bearer [redacted]',
    );
  });

  it('keeps numbers, booleans and null as they are', () => {
    expect(redact({ count: 3, ok: true, none: null })).toEqual({ count: 3, ok: true, none: null });
  });
});
