import { describe, expect, it } from 'vitest';
import { isLoopbackHost, isPrivateHost } from './private-host';

const host = (url: string) => new URL(url).hostname;

describe('isPrivateHost', () => {
  it.each([
    'http://localhost/',
    'http://app.localhost/',
    'http://127.0.0.1/',
    'http://2130706433/',
    'http://0x7f.1/',
    'http://0.0.0.0/',
    'http://10.1.2.3/',
    'http://192.168.0.1/',
    'http://172.16.0.1/',
    'http://169.254.169.254/',
    'http://100.64.0.1/',
    'http://[::1]/',
    'http://[::]/',
    'http://[::ffff:127.0.0.1]/',
    'http://[fd00::1]/',
    'http://[fe80::1]/',
    'http://gitea.lan/',
    'http://metadata.internal/',
    'http://gitserver/',
    'http://GitServer./',
  ])('%s is private', (url) => expect(isPrivateHost(host(url))).toBe(true));

  it.each([
    'https://gitlab.com/',
    'https://8.8.8.8/',
    'https://172.32.0.1/',
    'https://100.128.0.1/',
    'https://[2001:db8::1]/',
  ])('%s is public', (url) => expect(isPrivateHost(host(url))).toBe(false));

  it('knows loopback apart from the rest of the private hosts', () => {
    expect(isLoopbackHost('127.0.0.1')).toBe(true);
    expect(isLoopbackHost('[::1]')).toBe(true);
    expect(isLoopbackHost('localhost')).toBe(true);
    expect(isLoopbackHost('10.0.0.1')).toBe(false);
  });
});
