import type { Context } from 'hono';
import { html, raw } from 'hono/html';
import type { HonoEnv } from '../context';
import { newRouter } from '../router';

/**
 * The pages the links in Sparki's mails open (verify an address, reset a password, accept an
 * invitation). The token travels in the URL fragment, which browsers never send, so each page
 * reads it in the browser and makes the one API call the page documents. The dashboard replaces
 * these pages; the API calls they make stay the reference for API-only use.
 */
interface LinkPage {
  path: string;
  title: string;
  /** The API call the page makes, shown on it for anyone completing the flow by hand. */
  apiCall: string;
  fields: { name: string; label: string; type: string; autocomplete: string }[];
  /** Browser code run with `token` (from the fragment), `form`, `say(text)` and `call(path, body)`. */
  script: string;
}

const PAGES: LinkPage[] = [
  {
    path: '/verify-email',
    title: 'Confirm your email address',
    apiCall: 'POST /api/auth/verify-email {"token": "<token>"}',
    fields: [],
    script: `
      form.hidden = true;
      const answer = await call('/api/auth/verify-email', { token });
      say(answer.ok ? 'Your address is confirmed. You can sign in now.' : answer.message);`,
  },
  {
    path: '/reset-password',
    title: 'Choose a new password',
    apiCall:
      'POST /api/auth/password-reset/confirm {"token": "<token>", "password": "<new password>"}',
    fields: [
      { name: 'password', label: 'New password', type: 'password', autocomplete: 'new-password' },
    ],
    script: `
      form.onsubmit = async (event) => {
        event.preventDefault();
        const answer = await call('/api/auth/password-reset/confirm', {
          token,
          password: form.elements.password.value,
        });
        say(answer.ok ? 'Your password is changed. Sign in with the new one.' : answer.message);
        if (answer.ok) form.hidden = true;
      };`,
  },
  {
    path: '/invites/accept',
    title: 'Join a workspace',
    apiCall:
      'POST /api/invites/accept {"token": "<token>"}, signed in as the invited address (POST /api/auth/login first)',
    fields: [
      { name: 'email', label: 'Email', type: 'email', autocomplete: 'username' },
      { name: 'password', label: 'Password', type: 'password', autocomplete: 'current-password' },
      {
        name: 'code',
        label: 'Authenticator code (if asked)',
        type: 'text',
        autocomplete: 'one-time-code',
      },
    ],
    script: `
      let mfaToken = null;
      const accept = async () => {
        const answer = await call('/api/invites/accept', { token });
        if (answer.ok) {
          form.hidden = true;
          say('You joined the workspace as ' + answer.body.role + '.');
        } else {
          say(answer.status === 401 ? 'Sign in as the invited address to accept.' : answer.message);
        }
      };
      form.onsubmit = async (event) => {
        event.preventDefault();
        const { email, password, code } = form.elements;
        const answer = mfaToken
          ? await call('/api/auth/mfa/verify', { mfa_token: mfaToken, code: code.value, session: 'cookie' })
          : await call('/api/auth/login', { email: email.value, password: password.value, session: 'cookie' });
        if (!answer.ok) return say(answer.message);
        if (answer.body.mfa_required) {
          mfaToken = answer.body.mfa_token;
          return say('Enter the code from your authenticator app.');
        }
        await accept();
      };
      await accept();`,
  },
];

// Shared by every page: the token from the fragment, and calls that report the API's own error.
const PRELUDE = `
  const token = new URLSearchParams(location.hash.slice(1)).get('token');
  const form = document.getElementById('form');
  const say = (text) => { document.getElementById('status').textContent = text; };
  const call = async (path, body) => {
    const response = await fetch(path, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const answer = await response.json().catch(() => ({}));
    return {
      ok: response.ok,
      status: response.status,
      body: answer,
      message: answer.error ? answer.error.message : 'The server answered ' + response.status,
    };
  };
  if (!token) {
    form.hidden = true;
    say('This link has no token: open the link from the mail as it is.');
  }`;

function render(c: Context<HonoEnv>, page: LinkPage) {
  const nonce = crypto.randomUUID().replaceAll('-', '');
  c.header(
    'Content-Security-Policy',
    `default-src 'none'; script-src 'nonce-${nonce}'; connect-src 'self'; style-src 'unsafe-inline'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'`,
  );
  c.header('Referrer-Policy', 'no-referrer');
  c.header('Cache-Control', 'no-store');
  return c.html(html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${page.title} · Sparki</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}label{display:block;margin:.75rem 0}input{display:block;width:100%;padding:.4rem}code{font-size:.85em}</style>
</head>
<body>
<h1>${page.title}</h1>
<form id="form">
${page.fields.map((field) => html`<label>${field.label}<input name="${field.name}" type="${field.type}" autocomplete="${field.autocomplete}"></label>`)}
${page.fields.length > 0 ? html`<button type="submit">Continue</button>` : ''}
</form>
<p id="status" role="status"></p>
<p><small>Without a browser: <code>${page.apiCall}</code>, with the token after <code>#token=</code> in the link.</small></p>
<script nonce="${nonce}">(async () => {${raw(PRELUDE)}
  if (token) {${raw(page.script)}
  }
})();</script>
</body>
</html>`);
}

export const tokenLinkPages = newRouter();
for (const page of PAGES) tokenLinkPages.get(page.path, (c) => render(c, page));
