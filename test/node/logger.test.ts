import { describe, expect, it } from 'vitest';
import { createLogger } from '../../platform/logger';

describe('createLogger', () => {
  it('writes one JSON line per event carrying the bound request id, scrubbed', () => {
    const lines: string[] = [];
    const logger = createLogger({ request_id: 'req-1' }, 'info', (line) => lines.push(line));
    logger
      .child({ route: '/login' })
      .info('login_failed', { email: 'ada@example.com', password: 'pw' });
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!);
    expect(entry).toMatchObject({
      level: 'info',
      event: 'login_failed',
      request_id: 'req-1',
      route: '/login',
      email: 'a***@example.com',
      password: '[redacted]',
    });
    expect(lines[0]).not.toContain('ada@');
  });

  it('drops events below the configured level', () => {
    const lines: string[] = [];
    const logger = createLogger({}, 'warn', (line) => lines.push(line));
    logger.info('ignored');
    logger.error('kept');
    expect(lines.map((line) => JSON.parse(line).event)).toEqual(['kept']);
  });
});
