import { describe, expect, it } from 'vitest';
import { checkHostname, txtRecordText, verificationRecordName } from './domains';

describe('custom domain host names', () => {
  it('normalizes a host name', () => {
    expect(checkHostname(' WWW.Example.COM. ', 'sparki.app')).toEqual({
      ok: true,
      hostname: 'www.example.com',
    });
  });

  it('refuses addresses, single labels, bad characters and the platform’s own hosts', () => {
    for (const bad of [
      '',
      'localhost',
      '10.0.0.1',
      'exa mple.com',
      '-a.com',
      'a..com',
      'x_y.com',
    ]) {
      expect(checkHostname(bad, 'sparki.app').ok, bad).toBe(false);
    }
    expect(checkHostname('sparki.app', 'sparki.app').ok).toBe(false);
    expect(checkHostname('shop--x.sparki.app', 'sparki.app')).toMatchObject({
      ok: false,
      message: expect.stringContaining('sparki.app'),
    });
  });

  it('names the challenge record and reads TXT data', () => {
    expect(verificationRecordName('www.example.com')).toBe('_sparki-challenge.www.example.com');
    expect(txtRecordText('"sparki-verify=abc"')).toBe('sparki-verify=abc');
    expect(txtRecordText('"sparki-" "verify=abc"')).toBe('sparki-verify=abc');
    expect(txtRecordText('"a \\"quoted\\" word"')).toBe('a "quoted" word');
    expect(txtRecordText('bare')).toBe('bare');
  });
});
