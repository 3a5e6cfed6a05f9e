import { describe, expect, it } from 'vitest';
import { isDatabaseUnavailable } from './database-unavailable';

function pgError(message: string, code?: string): Error {
  return Object.assign(new Error(message), code ? { code } : {});
}

/** drizzle's wrapper: its own message, the driver's error as `cause`. */
function failedQuery(cause: Error): Error {
  return new Error('Failed query: select 1\nparams: ', { cause });
}

describe('isDatabaseUnavailable', () => {
  it('recognises a full server, one starting up and a lost connection by SQLSTATE', () => {
    for (const code of ['53300', '53400', '57P03', '08006', '08001']) {
      expect(isDatabaseUnavailable(pgError('x', code)), code).toBe(true);
    }
  });

  it("recognises the driver's own connect failures, which carry no SQLSTATE", () => {
    for (const message of [
      'timeout exceeded when trying to connect',
      'Connection terminated unexpectedly',
      'Connection terminated due to connection timeout',
      'sorry, too many clients already',
    ]) {
      expect(isDatabaseUnavailable(pgError(message)), message).toBe(true);
    }
  });

  it('looks through the causes drizzle wraps the error in', () => {
    expect(isDatabaseUnavailable(failedQuery(pgError('x', '53300')))).toBe(true);
    expect(
      isDatabaseUnavailable(failedQuery(pgError('timeout exceeded when trying to connect'))),
    ).toBe(true);
  });

  it('leaves query errors and bugs as they are', () => {
    expect(isDatabaseUnavailable(failedQuery(pgError('duplicate key', '23505')))).toBe(false);
    expect(isDatabaseUnavailable(pgError('syntax error', '42601'))).toBe(false);
    expect(isDatabaseUnavailable(new TypeError('x is undefined'))).toBe(false);
    expect(isDatabaseUnavailable('timeout exceeded when trying to connect')).toBe(false);
    expect(isDatabaseUnavailable(undefined)).toBe(false);
  });
});
