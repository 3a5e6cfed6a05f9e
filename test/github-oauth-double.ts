import {
  createHash,
  generateKeyPairSync,
  randomBytes,
  randomUUID,
  timingSafeEqual,
} from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import getPort from 'get-port';
import { appOfJwt, InstallationTokens, serveGitHubRepository } from './github-installation-tokens';

export interface GitHubTestUser {
  id: number;
  login: string;
  name: string | null;
  emails: { email: string; primary: boolean; verified: boolean }[];
}

export interface GitHubOAuthDouble {
  /** Where `/login/oauth/*` lives (GITHUB_OAUTH_BASE_URL). */
  oauthBaseUrl: string;
  /** The REST API, at `/api/v3` as on GitHub Enterprise Server (GITHUB_API_BASE_URL). */
  apiBaseUrl: string;
  clientId: string;
  clientSecret: string;
  /** GitHub Apps created from manifests here, by id, with the credentials handed over. */
  apps: Map<number, CreatedApp>;
  /** Commit statuses created, in order, with the app and installation whose token sent each. */
  statuses: Record<string, unknown>[];
  installationTokens: InstallationTokens;
  close(): Promise<void>;
}

/** A GitHub App the double created from a manifest (`POST /settings/apps/new`). */
export interface CreatedApp {
  id: number;
  slug: string;
  manifest: Record<string, unknown>;
  clientId: string;
  clientSecret: string;
  webhookSecret: string;
  /** PKCS#1 PEM (`BEGIN RSA PRIVATE KEY`), as GitHub hands it over once. */
  pem: string;
  /** Whether the conversion code was exchanged already (codes are single use). */
  converted: boolean;
}

interface IssuedCode {
  login: string;
  redirectUri: string;
  codeChallenge: string;
}

const DOCS =
  'https://docs.github.com/apps/oauth-apps/maintaining-oauth-apps/troubleshooting-oauth-app-access-token-request-errors';

function sameSecret(a: string, b: string) {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

async function readBody(req: IncomingMessage) {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

/**
 * A test double of GitHub's OAuth app flow, since no GitHub runs locally. It follows GitHub's
 * documented behaviour: the authorize redirect with `code` and `state`, the token endpoint
 * (form or JSON by `Accept`, errors as HTTP 200 with an `error` field, PKCE S256 checked,
 * codes single use and bound to `redirect_uri`), and `GET /user` and `GET /user/emails`
 * behind the token. GitHub's sign-in page is replaced by the `login` parameter (which
 * GitHub documents as a hint) naming a user the test registered with `POST /_test/users`.
 * Public repositories registered with `POST /_test/repos` (`{ repo: 'owner/name', ref, files }`)
 * are served by the contents API, without credentials as GitHub serves public ones. With
 * `gitRoot`, the git repositories under it (`gitRoot/owner/name.git`) are served for cloning at
 * `/owner/name.git`, as github.com serves them (git's smart HTTP protocol); `privateRepos`
 * (`owner/name`) only to an installation token that reads them (test/github-installation-tokens.ts).
 */
export async function startGitHubOAuthDouble(
  options: { gitRoot?: string; privateRepos?: string[] } = {},
): Promise<GitHubOAuthDouble> {
  const port = await getPort({ host: '127.0.0.1' });
  const base = `http://127.0.0.1:${port}`;
  const clientId = `Iv1.${randomBytes(8).toString('hex')}`;
  const clientSecret = randomBytes(20).toString('hex');
  const users = new Map<string, GitHubTestUser>();
  const codes = new Map<string, IssuedCode>();
  const tokens = new Map<string, string>();
  // Public repositories by `owner/repo@ref`: file paths and their text.
  const repos = new Map<string, Record<string, string>>();
  const apps = new Map<number, CreatedApp>();
  // Manifest conversion codes (single use, as GitHub's) → the app created.
  const manifestCodes = new Map<string, number>();
  let nextAppId = 1000;

  /**
   * `POST /settings/apps/new?state=` with a `manifest` form field: GitHub's "new app" page,
   * where the user confirms the name. The double confirms at once, creates the app and
   * redirects to the manifest's `redirect_url` with a conversion `code` and the `state`.
   */
  async function newApp(req: IncomingMessage, url: URL, res: ServerResponse) {
    const form = new URLSearchParams(await readBody(req));
    let manifest: Record<string, unknown>;
    try {
      manifest = JSON.parse(form.get('manifest') ?? '') as Record<string, unknown>;
    } catch {
      return json(res, 422, { message: 'Invalid manifest' });
    }
    if (typeof manifest.url !== 'string' || typeof manifest.redirect_url !== 'string') {
      return json(res, 422, { message: 'The manifest needs url and redirect_url' });
    }
    const id = nextAppId++;
    const name = typeof manifest.name === 'string' ? manifest.name : `app-${id}`;
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    apps.set(id, {
      id,
      slug: name
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/^-|-$/g, ''),
      manifest,
      clientId: `Iv23${randomBytes(8).toString('hex')}`,
      clientSecret: randomBytes(20).toString('hex'),
      webhookSecret: randomBytes(20).toString('hex'),
      pem: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
      converted: false,
    });
    const code = randomBytes(10).toString('hex');
    manifestCodes.set(code, id);
    const target = new URL(manifest.redirect_url);
    target.searchParams.set('code', code);
    const state = url.searchParams.get('state');
    if (state) target.searchParams.set('state', state);
    res.writeHead(302, { location: target.href }).end();
  }

  const installationTokens = new InstallationTokens();
  const privateRepos = new Set(options.privateRepos);
  // Commit statuses created, in order, as the tests read them back.
  const statuses: Record<string, unknown>[] = [];

  /** `POST /app/installations/{id}/access_tokens`: 201 with a one-hour token, behind the JWT. */
  async function accessTokens(req: IncomingMessage, installationId: number, res: ServerResponse) {
    const app = appOfJwt(req, apps);
    if (!app) {
      return json(res, 401, {
        message: 'A JSON web token could not be decoded',
        documentation_url: 'https://docs.github.com/rest',
        status: '401',
      });
    }
    return installationTokens.issue(app, installationId, await readBody(req), res);
  }

  /** `POST /repos/{owner}/{repo}/statuses/{sha}`: 201, behind an installation token. */
  async function createStatus(
    req: IncomingMessage,
    repo: string,
    sha: string,
    res: ServerResponse,
  ) {
    const token = /^(?:Bearer|token) (\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const installation = installationTokens.get(token ?? '');
    if (!installation) {
      return json(res, 401, { message: 'Bad credentials', status: '401' });
    }
    const body = JSON.parse(await readBody(req)) as Record<string, unknown>;
    if (!['error', 'failure', 'pending', 'success'].includes(String(body.state))) {
      return json(res, 422, { message: 'Validation Failed', status: '422' });
    }
    const status = {
      id: statuses.length + 1,
      state: body.state,
      description: body.description ?? null,
      target_url: body.target_url ?? null,
      context: body.context ?? 'default',
      created_at: new Date().toISOString(),
    };
    const { appId, installationId } = installation;
    statuses.push({ ...status, repo, sha, appId, installationId });
    return json(res, 201, status);
  }

  /** `POST /app-manifests/{code}/conversions`: 201 with the app and its secrets, once. */
  function conversion(code: string, res: ServerResponse) {
    const app = apps.get(manifestCodes.get(code) ?? -1);
    manifestCodes.delete(code);
    if (!app || app.converted) {
      return json(res, 404, {
        message: 'Not Found',
        documentation_url:
          'https://docs.github.com/rest/apps/apps#create-a-github-app-from-a-manifest',
      });
    }
    app.converted = true;
    const now = new Date().toISOString();
    return json(res, 201, {
      id: app.id,
      slug: app.slug,
      node_id: randomUUID(),
      owner: { login: 'octo-org', id: 1, type: 'Organization' },
      name: app.manifest.name ?? app.slug,
      description: null,
      external_url: app.manifest.url,
      html_url: `${base}/apps/${app.slug}`,
      created_at: now,
      updated_at: now,
      permissions: app.manifest.default_permissions ?? {},
      events: app.manifest.default_events ?? [],
      client_id: app.clientId,
      client_secret: app.clientSecret,
      webhook_secret: app.webhookSecret,
      pem: app.pem,
    });
  }

  /** `GET /repos/{owner}/{repo}/contents/{path}?ref=`: a directory's entries or a file, base64. */
  function contents(url: URL, res: ServerResponse) {
    const match = /^\/api\/v3\/repos\/([^/]+)\/([^/]+)\/contents(?:\/(.*))?$/.exec(url.pathname);
    const files = repos.get(`${match?.[1]}/${match?.[2]}@${url.searchParams.get('ref')}`);
    const notFound = () =>
      json(res, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
    if (!match || !files) return notFound();
    const path = decodeURIComponent(match[3] ?? '').replace(/\/$/, '');
    const file = files[path];
    if (file !== undefined) {
      return json(res, 200, {
        type: 'file',
        name: path.split('/').pop(),
        path,
        encoding: 'base64',
        content: Buffer.from(file).toString('base64'),
      });
    }
    const prefix = path ? `${path}/` : '';
    const entries = new Map<string, 'file' | 'dir'>();
    for (const name of Object.keys(files)) {
      if (!name.startsWith(prefix)) continue;
      const [first, ...rest] = name.slice(prefix.length).split('/');
      entries.set(first!, rest.length > 0 ? 'dir' : 'file');
    }
    if (entries.size === 0) return notFound();
    return json(
      res,
      200,
      [...entries].map(([name, type]) => ({ name, path: prefix + name, type })),
    );
  }

  function authorize(url: URL, res: ServerResponse) {
    const q = url.searchParams;
    if (q.get('client_id') !== clientId) return json(res, 404, { message: 'Not Found' });
    const login = q.get('login') ?? '';
    const redirectUri = q.get('redirect_uri') ?? '';
    if (!users.has(login) || !redirectUri) {
      return json(res, 400, { message: 'The test must name a registered user in `login`' });
    }
    const target = new URL(redirectUri);
    if (q.get('code_challenge_method') !== 'S256' || !q.get('code_challenge')) {
      target.searchParams.set('error', 'invalid_request');
    } else {
      const code = randomBytes(10).toString('hex');
      codes.set(code, { login, redirectUri, codeChallenge: q.get('code_challenge')! });
      target.searchParams.set('code', code);
    }
    const state = q.get('state');
    if (state) target.searchParams.set('state', state);
    res.writeHead(302, { location: target.href }).end();
  }

  async function accessToken(req: IncomingMessage, res: ServerResponse) {
    const form = new URLSearchParams(await readBody(req));
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const [basicId, basicSecret] = basic
      ? Buffer.from(basic, 'base64').toString().split(':').map(decodeURIComponent)
      : [];
    const id = form.get('client_id') ?? basicId ?? '';
    const secret = form.get('client_secret') ?? basicSecret ?? '';
    const code = codes.get(form.get('code') ?? '');
    codes.delete(form.get('code') ?? '');
    const verifier = form.get('code_verifier') ?? '';
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    let answer: Record<string, string>;
    if (id !== clientId || !sameSecret(secret, clientSecret)) {
      answer = {
        error: 'incorrect_client_credentials',
        error_description: 'The client_id and/or client_secret passed are incorrect.',
        error_uri: `${DOCS}#incorrect-client-credentials`,
      };
    } else if (!code || code.codeChallenge !== challenge) {
      answer = {
        error: 'bad_verification_code',
        error_description: 'The code passed is incorrect or expired.',
        error_uri: `${DOCS}#bad-verification-code`,
      };
    } else if (form.get('redirect_uri') !== code.redirectUri) {
      answer = {
        error: 'redirect_uri_mismatch',
        error_description:
          'The redirect_uri MUST match the registered callback URL for this application.',
        error_uri: `${DOCS}#redirect-uri-mismatch`,
      };
    } else {
      const token = `gho_${randomBytes(18).toString('base64url')}`;
      tokens.set(token, code.login);
      answer = { access_token: token, token_type: 'bearer', scope: 'read:user,user:email' };
    }
    if (req.headers.accept?.includes('application/json')) return json(res, 200, answer);
    res.writeHead(200, { 'content-type': 'application/x-www-form-urlencoded' });
    res.end(new URLSearchParams(answer).toString());
  }

  function api(req: IncomingMessage, path: string, res: ServerResponse) {
    const token = /^(?:Bearer|token) (\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const user = users.get(tokens.get(token ?? '') ?? '');
    if (!user) {
      return json(res, 401, {
        message: 'Bad credentials',
        documentation_url: 'https://docs.github.com/rest',
        status: '401',
      });
    }
    if (path === '/user') {
      const primary = user.emails.find((e) => e.primary);
      return json(res, 200, {
        login: user.login,
        id: user.id,
        node_id: randomUUID(),
        type: 'User',
        name: user.name,
        email: primary?.email ?? null,
      });
    }
    return json(
      res,
      200,
      user.emails.map((e) => ({ ...e, visibility: e.primary ? 'private' : null })),
    );
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', base);
    const route = `${req.method} ${url.pathname}`;
    const fail = (error: Error) => json(res, 500, { message: error.message });
    switch (route) {
      case 'GET /login/oauth/authorize':
        return authorize(url, res);
      case 'POST /login/oauth/access_token':
        return void accessToken(req, res).catch(fail);
      case 'GET /api/v3/user':
      case 'GET /api/v3/user/emails':
        return api(req, url.pathname.slice('/api/v3'.length), res);
      case 'POST /_test/repos':
        return void readBody(req)
          .then((body) => {
            const repo = JSON.parse(body) as {
              repo: string;
              ref: string;
              files: Record<string, string>;
            };
            repos.set(`${repo.repo}@${repo.ref}`, repo.files);
            res.writeHead(201).end();
          })
          .catch(fail);
      case 'POST /_test/users':
        return void readBody(req)
          .then((body) => {
            const user = JSON.parse(body) as GitHubTestUser;
            users.set(user.login, user);
            res.writeHead(201).end();
          })
          .catch(fail);
      case 'POST /settings/apps/new':
        return void newApp(req, url, res).catch(fail);
      default: {
        const converting = /^\/api\/v3\/app-manifests\/([^/]+)\/conversions$/.exec(url.pathname);
        if (req.method === 'POST' && converting) {
          return conversion(decodeURIComponent(converting[1]!), res);
        }
        const installing = /^\/api\/v3\/app\/installations\/(\d+)\/access_tokens$/.exec(
          url.pathname,
        );
        if (req.method === 'POST' && installing) {
          return void accessTokens(req, Number(installing[1]), res).catch(fail);
        }
        const statusing = /^\/api\/v3\/repos\/([^/]+\/[^/]+)\/statuses\/([0-9a-f]{40})$/.exec(
          url.pathname,
        );
        if (req.method === 'POST' && statusing) {
          return void createStatus(req, statusing[1]!, statusing[2]!, res).catch(fail);
        }
        if (req.method === 'GET' && url.pathname === '/_test/statuses') {
          return json(res, 200, statuses);
        }
        // The tests (inside workerd) read an app's credentials back to sign deliveries with.
        const testApp = /^\/_test\/apps\/(\d+)$/.exec(url.pathname);
        if (req.method === 'GET' && testApp) {
          const app = apps.get(Number(testApp[1]));
          return app ? json(res, 200, app) : json(res, 404, { message: 'Not Found' });
        }
        if (req.method === 'GET' && url.pathname.startsWith('/api/v3/repos/')) {
          return contents(url, res);
        }
        if (req.method === 'GET' && installationTokens.serveLookup(url, res)) return;
        if (
          options.gitRoot &&
          serveGitHubRepository(options.gitRoot, privateRepos, installationTokens, req, url, res)
        ) {
          return;
        }
        return json(res, 404, {
          message: 'Not Found',
          documentation_url: 'https://docs.github.com/rest',
        });
      }
    }
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));

  return {
    oauthBaseUrl: base,
    apiBaseUrl: `${base}/api/v3`,
    clientId,
    clientSecret,
    apps,
    statuses,
    installationTokens,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
