import { createPublicKey, createVerify, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { serveGitRepository } from './git-smart-http';

/** An installation access token (`ghs_…`) the GitHub stand-in issued, and what it may do. */
export interface InstallationToken {
  appId: number;
  installationId: number;
  /** Repository names (without the owner) it is limited to; null: all the installation reaches. */
  repositories: string[] | null;
  permissions: Record<string, string>;
}

const LEVELS: Record<string, number> = { read: 1, write: 2 };

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

function parse(body: string): Record<string, unknown> | undefined {
  if (!body.trim()) return {};
  try {
    const parsed = JSON.parse(body) as unknown;
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The app whose RS256 JWT (iss = app id, unexpired) authorizes the request, if any. */
export function appOfJwt<App extends { pem: string }>(
  req: IncomingMessage,
  apps: ReadonlyMap<number, App>,
): App | undefined {
  const jwt = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
  const [header, payload, signature] = jwt?.split('.') ?? [];
  if (!header || !payload || !signature) return undefined;
  try {
    const head = JSON.parse(Buffer.from(header, 'base64url').toString()) as { alg?: string };
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as {
      iss?: string;
      exp?: number;
    };
    const app = apps.get(Number(claims.iss));
    if (!app || head.alg !== 'RS256' || !claims.exp || claims.exp * 1000 < Date.now()) {
      return undefined;
    }
    const verifier = createVerify('RSA-SHA256');
    verifier.update(`${header}.${payload}`);
    const ok = verifier.verify(createPublicKey(app.pem), Buffer.from(signature, 'base64url'));
    return ok ? app : undefined;
  } catch {
    return undefined;
  }
}

/**
 * GitHub's installation access tokens, as `POST /app/installations/{id}/access_tokens` documents
 * them: the body may narrow a token to some `repositories` (names) and `permissions`, never wider
 * than the app's own permissions (422 otherwise). Private repositories are cloned with one as the
 * HTTP Basic password (any user name; Sparki sends `x-access-token`).
 */
export class InstallationTokens {
  private readonly tokens = new Map<string, InstallationToken>();

  /** Every token issued, in order, with what it may do. */
  issued(): [string, InstallationToken][] {
    return [...this.tokens];
  }

  get(token: string | undefined): InstallationToken | undefined {
    return this.tokens.get(token ?? '');
  }

  /** Answers the token request of `app` (already authenticated by its JWT). */
  issue(
    app: { id: number; manifest: Record<string, unknown> },
    installationId: number,
    body: string,
    res: ServerResponse,
  ) {
    const request = parse(body);
    const granted = (app.manifest.default_permissions ?? {}) as Record<string, string>;
    const repositories = request?.repositories;
    const permissions = request?.permissions ?? granted;
    const validRepositories =
      repositories === undefined ||
      (Array.isArray(repositories) && repositories.every((name) => typeof name === 'string'));
    const validPermissions =
      typeof permissions === 'object' &&
      permissions !== null &&
      Object.entries(permissions).every(
        ([name, level]) => (LEVELS[String(level)] ?? 3) <= (LEVELS[granted[name] ?? ''] ?? 0),
      );
    if (!request || !validRepositories || !validPermissions) {
      return json(res, 422, {
        message: 'The permissions requested are not granted to this installation.',
        documentation_url:
          'https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app',
        status: '422',
      });
    }
    const token = `ghs_${randomBytes(18).toString('base64url')}`;
    const issued: InstallationToken = {
      appId: app.id,
      installationId,
      repositories: (repositories as string[] | undefined) ?? null,
      permissions: permissions as Record<string, string>,
    };
    this.tokens.set(token, issued);
    return json(res, 201, {
      token,
      expires_at: new Date(Date.now() + 3_600_000).toISOString(),
      permissions: issued.permissions,
      repository_selection: issued.repositories ? 'selected' : 'all',
    });
  }

  /** `GET /_test/installation-tokens/{token}`: what a token was issued for (tests in workerd). */
  serveLookup(url: URL, res: ServerResponse): boolean {
    const match = /^\/_test\/installation-tokens\/([^/]+)$/.exec(url.pathname);
    if (!match) return false;
    const issued = this.get(decodeURIComponent(match[1]!));
    if (issued) json(res, 200, issued);
    else json(res, 404, { message: 'Not Found' });
    return true;
  }

  /** Whether the request's Basic credentials read the contents of `owner/name`. */
  readsContents(req: IncomingMessage, fullName: string): boolean {
    const basic = /^Basic (\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (!basic) return false;
    const decoded = Buffer.from(basic, 'base64').toString('utf8');
    const issued = this.get(decoded.slice(decoded.indexOf(':') + 1));
    const name = fullName.split('/')[1] ?? '';
    return Boolean(
      issued &&
        (issued.repositories === null || issued.repositories.includes(name)) &&
        LEVELS[issued.permissions.contents ?? ''],
    );
  }
}

/**
 * github.com's git service: public repositories for anyone, the `private` ones only with an
 * installation token that reads them (401 with a Basic challenge otherwise, as GitHub answers).
 * Answers false for a path that is not a repository's.
 */
export function serveGitHubRepository(
  root: string,
  privateRepos: ReadonlySet<string>,
  tokens: InstallationTokens,
  req: IncomingMessage,
  url: URL,
  res: ServerResponse,
): boolean {
  const fullName = /^\/([^/]+\/[^/]+)\.git\//.exec(url.pathname)?.[1];
  if (fullName && privateRepos.has(fullName) && !tokens.readsContents(req, fullName)) {
    res.writeHead(401, { 'www-authenticate': 'Basic realm="GitHub"' }).end();
    return true;
  }
  return serveGitRepository(root, req, url, res);
}
