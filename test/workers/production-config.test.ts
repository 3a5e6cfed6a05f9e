import { env } from 'cloudflare:test';
import { describe, expect, inject, it } from 'vitest';
import { parseConfig } from '../../platform/config';
import { readMailbox } from '../../platform/mail/mailer';
import { as } from './api-client';
import { createWorkspace, freshEmail, newUser, PASSWORD } from './auth-helpers';
import { fetchWithEnv } from './harness';

const resend = { baseUrl: inject('resendBaseUrl'), apiKey: inject('resendApiKey') };

/** The production configuration: what wrangler.toml ships, plus the secrets an operator sets. */
const production: Partial<Env> = {
  APP_ENV: 'production',
  RESEND_API_KEY: resend.apiKey,
  RESEND_BASE_URL: resend.baseUrl,
  MAIL_FROM: 'Sparki <no-reply@sparki.test>',
};
const inProduction = as(undefined, { env: production });

async function sentTo(email: string) {
  const response = await fetch(`${resend.baseUrl}/_test/emails?to=${encodeURIComponent(email)}`);
  return (await response.json<{ data: { from: string; subject: string; text: string }[] }>()).data;
}

/** The link in the newest mail Resend accepted for `email` with this subject. */
async function mailedLink(email: string, subject: RegExp) {
  const mail = (await sentTo(email)).filter((m) => subject.test(m.subject)).at(-1);
  const link = /(http\S+)#token=([A-Za-z0-9_-]+)/.exec(mail?.text ?? '');
  expect(link, `no mail matching ${subject} for ${email}`).not.toBeNull();
  return { url: new URL(link![1]!), token: link![2]! };
}

/** A mailed link opens the dashboard: the Worker serves its index.html at the link's path. */
async function expectLinkPage(url: URL, path: string) {
  expect(url.origin).toBe(env.PUBLIC_URL);
  expect(url.pathname).toBe(path);
  const page = await fetchWithEnv(url.pathname, production);
  expect(page.status).toBe(200);
  expect(page.headers.get('content-type')).toContain('text/html');
  expect(await page.text()).toContain('<div id="root"></div>');
}

describe('the production configuration', () => {
  it('serves no development route, whether APP_ENV says production or is not set', async () => {
    for (const overrides of [production, { ...production, APP_ENV: undefined }]) {
      const response = await fetchWithEnv('/dev/mailbox/someone%40example.com', overrides);
      expect(response.status).toBe(404);
      expect((await response.json<{ error: { code: string } }>()).error.code).toBe('not_found');
    }
    // The same route does answer in development, so the 404 above is the configuration's doing.
    expect((await fetchWithEnv('/dev/mailbox/someone%40example.com', {})).status).toBe(200);
  });

  it('refuses to run without a mailer, naming the secret, while liveness still answers', async () => {
    const response = await fetchWithEnv('/api/me', { ...production, RESEND_API_KEY: undefined });
    expect(response.status).toBe(500);
    const body = await response.json<{
      error: { code: string; details: { fields: { path: string }[] } };
    }>();
    expect(body.error.code).toBe('misconfigured');
    expect(body.error.details.fields.map((field) => field.path)).toContain('RESEND_API_KEY');
    expect(
      (await fetchWithEnv('/healthz', { ...production, RESEND_API_KEY: undefined })).status,
    ).toBe(200);
  });

  it('checks the mail settings at the door', () => {
    const base = { ...env } as unknown as Record<string, unknown>;
    const fields = (overrides: Record<string, unknown>) => {
      const result = parseConfig({ ...base, ...overrides });
      return result.ok ? [] : result.fields.map((field) => field.path);
    };
    expect(fields({ APP_ENV: 'production', RESEND_API_KEY: '' })).toContain('RESEND_API_KEY');
    expect(fields({ APP_ENV: 'production', RESEND_API_KEY: 're_x', MAIL_FROM: '' })).toEqual([
      'MAIL_FROM',
    ]);
    expect(fields({ APP_ENV: 'production', RESEND_API_KEY: 're_x', MAIL_FROM: 'a@b.c' })).toEqual(
      [],
    );
    expect(fields({ APP_ENV: 'staging' })).toContain('APP_ENV');
    expect(fields({ APP_ENV: 'development', RESEND_API_KEY: '' })).toEqual([]);
  });

  it('takes the runner offline notice period in whole seconds, 0 to 3600, 60 when unset', () => {
    const base = { ...env } as unknown as Record<string, unknown>;
    const period = (value: string | undefined) => {
      const result = parseConfig({ ...base, RUNNER_OFFLINE_NOTICE_SECONDS: value });
      return result.ok ? result.config.RUNNER_OFFLINE_NOTICE_SECONDS : result.fields;
    };
    expect(period(undefined)).toBe(60);
    expect(period('')).toBe(60);
    expect(period('0')).toBe(0);
    expect(period('300')).toBe(300);
    for (const bad of ['soon', '1.5', '-1', '7200']) {
      expect(period(bad), bad).toEqual([
        expect.objectContaining({ path: 'RUNNER_OFFLINE_NOTICE_SECONDS' }),
      ]);
    }
  });

  it('mails the verification link through Resend; the link opens the dashboard', async () => {
    const email = freshEmail('prod');
    const signup = await inProduction.post('/api/auth/signup', { email, password: PASSWORD });
    expect(signup.status).toBe(202);
    const [mail] = await sentTo(email);
    expect(mail?.from).toBe(production.MAIL_FROM);
    expect(await readMailbox(env.LOGS, email)).toEqual([]);

    const { url, token } = await mailedLink(email, /Verify/);
    await expectLinkPage(url, '/verify-email');
    expect((await inProduction.post('/api/auth/verify-email', { token })).status).toBe(200);
    expect((await inProduction.post('/api/auth/login', { email, password: PASSWORD })).status).toBe(
      200,
    );
  });

  it('mails the password reset link through Resend; the link opens the dashboard', async () => {
    const user = await newUser('reset');
    expect(
      (await inProduction.post('/api/auth/password-reset', { email: user.email })).status,
    ).toBe(202);
    const { url, token } = await mailedLink(user.email, /Reset/);
    await expectLinkPage(url, '/reset-password');
    const password = 'a brand new passphrase';
    const confirm = await inProduction.post('/api/auth/password-reset/confirm', {
      token,
      password,
    });
    expect(confirm.status).toBe(200);
    expect(
      (await inProduction.post('/api/auth/login', { email: user.email, password })).status,
    ).toBe(200);
  });

  it('mails invitations through Resend; the link opens the dashboard', async () => {
    const owner = await newUser('owner');
    const invitee = await newUser('invitee');
    const workspace = await createWorkspace(owner.access_token);
    const invited = await as(owner, { env: production }).post(
      `/api/workspaces/${workspace.id}/invites`,
      { email: invitee.email, role: 'developer' },
    );
    expect(invited.status).toBe(201);
    const { url, token } = await mailedLink(invitee.email, /invited/);
    await expectLinkPage(url, '/invites/accept');
    const accepted = await as(invitee, { env: production }).post('/api/invites/accept', { token });
    expect(accepted.status).toBe(200);
  });

  it('answers 502 when Resend refuses the mail, so the user can ask again', async () => {
    const response = await as(undefined, {
      env: { ...production, RESEND_API_KEY: 're_not_the_key' },
    }).post<{ error: { code: string; details: { reason: string } } }>('/api/auth/password-reset', {
      email: (await newUser('refused')).email,
    });
    expect(response.status).toBe(502);
    const body = response.body;
    expect(body.error).toMatchObject({
      code: 'bad_gateway',
      details: { reason: 'invalid_api_key' },
    });
  });
});
