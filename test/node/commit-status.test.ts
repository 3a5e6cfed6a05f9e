import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { importSPKI, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  giteaCommitStatus,
  githubCommitStatus,
  githubInstallationToken,
  githubPullRequestComment,
  gitlabCommitStatus,
  nextPageUrl,
  ReportingError,
} from '../../domain/reporting/commit-status';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PRIVATE_PEM = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const PUBLIC_PEM = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const APP_ID = '424242';
const INSTALLATION_TOKEN = 'ghs_installation';

interface Received {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}

let server: Server;
let base: string;
const received: Received[] = [];

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    request.on('data', (chunk) => {
      text += chunk;
    });
    request.on('end', () => resolve(text));
  });
}

/**
 * The documented requests and answers of GitHub's REST API (apps, statuses, issue comments),
 * GitLab's commit status API and Gitea's, including their error shapes.
 */
beforeAll(async () => {
  const appKey = await importSPKI(PUBLIC_PEM, 'RS256');
  server = createServer(async (request, response) => {
    const text = await readBody(request);
    const url = new URL(request.url ?? '/', 'http://local');
    received.push({
      method: request.method ?? '',
      path: url.pathname + url.search,
      headers: request.headers,
      body: text ? JSON.parse(text) : null,
    });
    const json = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    const auth = request.headers.authorization ?? '';
    if (url.pathname === '/github/app/installations/7/access_tokens') {
      try {
        const { payload } = await jwtVerify(auth.replace(/^Bearer /, ''), appKey, {
          issuer: APP_ID,
          algorithms: ['RS256'],
        });
        if ((payload.exp ?? 0) - (payload.iat ?? 0) > 600) throw new Error('too long');
        return json(201, { token: INSTALLATION_TOKEN, expires_at: '2026-11-23T12:00:00Z' });
      } catch {
        return json(401, {
          message: 'A JSON web token could not be decoded',
          documentation_url: 'https://docs.github.com/rest',
        });
      }
    }
    if (url.pathname.startsWith('/github/repos/')) {
      if (auth !== `Bearer ${INSTALLATION_TOKEN}`) {
        return json(401, {
          message: 'Bad credentials',
          documentation_url: 'https://docs.github.com/rest',
        });
      }
      if (request.method === 'GET' && url.pathname.endsWith('/comments')) return json(200, []);
      const body = JSON.parse(text) as { state?: string };
      if (
        url.pathname.includes('/statuses/') &&
        !['error', 'failure', 'pending', 'success'].includes(body.state ?? '')
      ) {
        return json(422, {
          message: 'Validation Failed',
          errors: [{ resource: 'Status', field: 'state', code: 'custom' }],
        });
      }
      return json(201, { id: 1 });
    }
    if (url.pathname.startsWith('/gitlab/projects/')) {
      if (request.headers['private-token'] !== 'glpat-x')
        return json(401, { message: '401 Unauthorized' });
      return json(201, { id: 1, status: url.searchParams.get('state') });
    }
    if (url.pathname.startsWith('/gitea/repos/')) {
      if (auth !== 'token gitea-x') return json(401, { message: 'user does not exist' });
      return json(201, { id: 1 });
    }
    json(404, { message: 'Not Found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

const status = {
  sha: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
  context: 'sparki/deploy (preview)',
  description: 'Preview is live',
  targetUrl: 'https://abc--shop.sparki.app',
} as const;

describe('commit statuses', () => {
  it('GitHub: app JWT → installation token → status, with the preview URL on the pull request', async () => {
    const token = await githubInstallationToken(
      { appId: APP_ID, privateKeyPem: PRIVATE_PEM, apiBase: `${base}/github` },
      7,
    );
    expect(token).toBe(INSTALLATION_TOKEN);
    const target = { apiBase: `${base}/github`, repo: 'acme/shop', token };
    await githubCommitStatus(target, { ...status, state: 'running' });
    const posted = await githubPullRequestComment(target, {
      number: 12,
      marker: '<!-- sparki:preview env -->',
      body: 'Preview: https://abc--shop.sparki.app',
    });
    expect(posted).toBe('created');
    const [statusCall, listCall, commentCall] = received.filter((r) =>
      r.path.startsWith('/github/repos/'),
    );
    expect(statusCall).toMatchObject({
      method: 'POST',
      path: `/github/repos/acme/shop/statuses/${status.sha}`,
      body: { state: 'pending', context: status.context, target_url: status.targetUrl },
    });
    expect(statusCall?.headers['x-github-api-version']).toBe('2022-11-28');
    expect(listCall).toMatchObject({
      method: 'GET',
      path: '/github/repos/acme/shop/issues/12/comments?per_page=100',
    });
    expect(commentCall).toMatchObject({
      method: 'POST',
      path: '/github/repos/acme/shop/issues/12/comments',
      body: { body: '<!-- sparki:preview env -->\nPreview: https://abc--shop.sparki.app' },
    });
  });

  it('GitHub: a key that is not the app’s is refused with the provider’s message', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const wrong = {
      appId: APP_ID,
      privateKeyPem: other.export({ type: 'pkcs8', format: 'pem' }).toString(),
      apiBase: `${base}/github`,
    };
    const error = await githubInstallationToken(wrong, 7).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReportingError);
    expect((error as ReportingError).status).toBe(401);
    expect((error as Error).message).toContain('could not be decoded');
  });

  it('GitLab: state and name as parameters, PRIVATE-TOKEN auth, its own state names', async () => {
    await gitlabCommitStatus(
      { apiBase: `${base}/gitlab`, repo: 'acme/shop', token: 'glpat-x' },
      { ...status, state: 'failure' },
    );
    const call = received.find((r) => r.path.startsWith('/gitlab/'));
    const url = new URL(call!.path, 'http://x');
    expect(url.pathname).toBe(`/gitlab/projects/acme%2Fshop/statuses/${status.sha}`);
    expect(url.searchParams.get('state')).toBe('failed');
    expect(url.searchParams.get('name')).toBe(status.context);
    const refused = await gitlabCommitStatus(
      { apiBase: `${base}/gitlab`, repo: '1', token: 'bad' },
      { ...status, state: 'success' },
    ).catch((e: unknown) => e);
    expect((refused as ReportingError).status).toBe(401);
  });

  it('Gitea: token auth and its state names', async () => {
    await giteaCommitStatus(
      { apiBase: `${base}/gitea`, repo: 'acme/shop', token: 'gitea-x' },
      { ...status, state: 'canceled' },
    );
    const call = received.find((r) => r.path.startsWith('/gitea/'));
    expect(call).toMatchObject({
      path: `/gitea/repos/acme/shop/statuses/${status.sha}`,
      body: { state: 'warning' },
    });
  });
});

describe('Link header pagination', () => {
  const base = 'https://api.github.com';
  const page = (link: string) => new Response('[]', { headers: { link } });

  it('follows rel="next" as GitHub and GitLab send it', () => {
    const next = `${base}/repositories/1/issues/2/comments?per_page=100&page=2`;
    expect(nextPageUrl(page(`<${next}>; rel="next", <${base}/x?page=5>; rel="last"`), base)).toBe(
      next,
    );
    expect(nextPageUrl(page(`<${base}/x?page=1>; rel="first", <${next}>; rel=next`), base)).toBe(
      next,
    );
  });

  it('stops on the last page, without a header, and never leaves the API’s origin', () => {
    expect(
      nextPageUrl(page(`<${base}/x?page=1>; rel="prev", <${base}/x?page=1>; rel="first"`), base),
    ).toBeUndefined();
    expect(nextPageUrl(new Response('[]'), base)).toBeUndefined();
    expect(
      nextPageUrl(page('<https://elsewhere.test/x?page=2>; rel="next"'), base),
    ).toBeUndefined();
  });
});
