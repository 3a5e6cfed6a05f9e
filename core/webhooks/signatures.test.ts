import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyWebhookSignature } from './signatures';

const body = (text: string) => new Uint8Array(new TextEncoder().encode(text));
const hmac = (secret: string, text: string) =>
  createHmac('sha256', secret).update(text).digest('hex');

describe('webhook signatures', () => {
  it("accepts GitHub's documented test vector", async () => {
    // https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
    const headers = new Headers({
      'x-hub-signature-256':
        'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
    });
    expect(
      await verifyWebhookSignature(
        'github',
        "It's a Secret to Everybody",
        body('Hello, World!'),
        headers,
      ),
    ).toBeNull();
  });

  it('refuses GitHub deliveries that are unsigned, badly formed or signed with another secret', async () => {
    const payload = body('{"zen":"Keep it logically awesome."}');
    const check = (headers: Record<string, string>) =>
      verifyWebhookSignature('github', 'secret', payload, new Headers(headers));
    expect(await check({})).toBe('missing');
    expect(await check({ 'x-hub-signature-256': 'sha1=abcd' })).toBe('malformed');
    expect(await check({ 'x-hub-signature-256': 'sha256=zz' })).toBe('malformed');
    expect(
      await check({
        'x-hub-signature-256': `sha256=${hmac('other', '{"zen":"Keep it logically awesome."}')}`,
      }),
    ).toBe('mismatch');
    expect(
      await check({
        'x-hub-signature-256': `sha256=${hmac('secret', '{"zen":"Keep it logically awesome."}')}`,
      }),
    ).toBeNull();
  });

  it('checks a changed body, not just the header', async () => {
    const headers = new Headers({ 'x-hub-signature-256': `sha256=${hmac('s', 'original')}` });
    expect(await verifyWebhookSignature('github', 's', body('tampered'), headers)).toBe('mismatch');
  });

  it('verifies Gitea and Forgejo signatures (bare hex HMAC)', async () => {
    const text = '{"ref":"refs/heads/main"}';
    expect(
      await verifyWebhookSignature(
        'gitea',
        'g',
        body(text),
        new Headers({ 'x-gitea-signature': hmac('g', text) }),
      ),
    ).toBeNull();
    expect(
      await verifyWebhookSignature(
        'gitea',
        'g',
        body(text),
        new Headers({ 'x-forgejo-signature': hmac('g', text) }),
      ),
    ).toBeNull();
    expect(
      await verifyWebhookSignature(
        'gitea',
        'g',
        body(text),
        new Headers({ 'x-gitea-signature': hmac('x', text) }),
      ),
    ).toBe('mismatch');
    expect(await verifyWebhookSignature('gitea', 'g', body(text), new Headers())).toBe('missing');
  });

  it('compares the GitLab token', async () => {
    const payload = body('{}');
    expect(
      await verifyWebhookSignature(
        'gitlab',
        'tok',
        payload,
        new Headers({ 'x-gitlab-token': 'tok' }),
      ),
    ).toBeNull();
    expect(
      await verifyWebhookSignature(
        'gitlab',
        'tok',
        payload,
        new Headers({ 'x-gitlab-token': 'to' }),
      ),
    ).toBe('mismatch');
    expect(await verifyWebhookSignature('gitlab', 'tok', payload, new Headers())).toBe('missing');
  });
});
