import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import * as oauth from 'oauth4webapi';
import { decryptSecret, encryptSecret } from '../../core/secret-box';
import type { Config } from '../../platform/config';
import { ApiError } from '../../platform/errors';
import type { HonoEnv } from '../context';

export const IDP_PROVIDERS = ['oidc', 'github'] as const;
export type IdpName = (typeof IDP_PROVIDERS)[number];

export const PENDING_SIGN_IN_TTL_SECONDS = 10 * 60;
const HTTP_TIMEOUT_MS = 10_000;
const DISCOVERY_TTL_MS = 60 * 60 * 1000;
const GITHUB_API_VERSION = '2022-11-28';

/** What a provider vouches for about the person who just signed in there. */
export interface ExternalIdentity {
  /** `identities.provider`: subjects are only unique within one issuer, so it names the issuer. */
  provider: string;
  subject: string;
  email: string | null;
  emailVerified: boolean;
  displayName: string | null;
}

const PendingSignInSchema = z.object({
  provider: z.enum(IDP_PROVIDERS),
  state: z.string().min(1),
  nonce: z.string().min(1),
  codeVerifier: z.string().min(43),
  returnTo: z.string().optional(),
  expiresAt: z.number(),
});

/** Carried from start to callback in an encrypted cookie: the browser holds it, not the DB. */
export type PendingSignIn = z.infer<typeof PendingSignInSchema>;

interface IdentityProvider {
  label: string;
  authorizationUrl(pending: PendingSignIn, redirectUri: string): Promise<URL>;
  complete(pending: PendingSignIn, callback: URL, redirectUri: string): Promise<ExternalIdentity>;
}

function httpOptions(url: string) {
  return {
    signal: () => AbortSignal.timeout(HTTP_TIMEOUT_MS),
    // Config admits http:// only for loopback hosts (the local stack and the tests).
    [oauth.allowInsecureRequests]: new URL(url).protocol === 'http:',
  };
}

// Per isolate: the metadata object also keys oauth4webapi's JWKS cache, so keeping it saves
// both fetches on every sign-in.
const discovered = new Map<string, { server: oauth.AuthorizationServer; fetchedAt: number }>();

async function discover(issuer: string): Promise<oauth.AuthorizationServer> {
  const cached = discovered.get(issuer);
  if (cached && Date.now() - cached.fetchedAt < DISCOVERY_TTL_MS) return cached.server;
  const url = new URL(issuer);
  const response = await oauth.discoveryRequest(url, { ...httpOptions(issuer), algorithm: 'oidc' });
  const server = await oauth.processDiscoveryResponse(url, response).catch((cause) => {
    throw new ApiError('bad_gateway', 'The identity provider published unusable metadata', {
      reason: (cause as oauth.OperationProcessingError).code,
    });
  });
  discovered.set(issuer, { server, fetchedAt: Date.now() });
  return server;
}

async function authorizationUrl(
  server: oauth.AuthorizationServer,
  params: Record<string, string>,
  pending: PendingSignIn,
) {
  const url = new URL(server.authorization_endpoint!);
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('state', pending.state);
  url.searchParams.set(
    'code_challenge',
    await oauth.calculatePKCECodeChallenge(pending.codeVerifier),
  );
  url.searchParams.set('code_challenge_method', 'S256');
  return url;
}

/** Exchanges the callback's code (state and, for OIDC, iss checked first) for a token response. */
async function exchangeCode(
  server: oauth.AuthorizationServer,
  client: oauth.Client,
  auth: oauth.ClientAuth,
  pending: PendingSignIn,
  callback: URL,
  redirectUri: string,
  openId: boolean,
) {
  const params = oauth.validateAuthResponse(server, client, callback.searchParams, pending.state);
  const response = await oauth.authorizationCodeGrantRequest(
    server,
    client,
    auth,
    params,
    redirectUri,
    pending.codeVerifier,
    httpOptions(server.token_endpoint!),
  );
  const tokens = await oauth.processAuthorizationCodeResponse(server, client, response, {
    expectedNonce: openId ? pending.nonce : oauth.expectNoNonce,
    requireIdToken: openId,
  });
  return { response, tokens };
}

function oidcProvider(config: Config): IdentityProvider | undefined {
  const { OIDC_ISSUER: issuer, OIDC_CLIENT_ID: clientId, OIDC_CLIENT_SECRET: secret } = config;
  if (!issuer || !clientId || !secret) return undefined;
  const client: oauth.Client = { client_id: clientId };
  return {
    label: 'The identity provider',
    async authorizationUrl(pending, redirectUri) {
      return authorizationUrl(
        await discover(issuer),
        {
          client_id: clientId,
          redirect_uri: redirectUri,
          scope: 'openid email profile',
          nonce: pending.nonce,
        },
        pending,
      );
    },
    async complete(pending, callback, redirectUri) {
      const server = await discover(issuer);
      const methods = server.token_endpoint_auth_methods_supported;
      const auth =
        methods?.includes('client_secret_post') && !methods.includes('client_secret_basic')
          ? oauth.ClientSecretPost(secret)
          : oauth.ClientSecretBasic(secret);
      const { response, tokens } = await exchangeCode(
        server,
        client,
        auth,
        pending,
        callback,
        redirectUri,
        true,
      );
      // oauth4webapi leaves the signature to TLS for tokens from the token endpoint; Sparki
      // also requires a key the provider publishes in its JWKS to have signed the ID token.
      await oauth.validateApplicationLevelSignature(server, response, httpOptions(issuer));
      const idToken = oauth.getValidatedIdTokenClaims(tokens)!;
      let claims: Record<string, unknown> = idToken;
      // Providers that conform to OIDC Core 5.4 put scope-requested claims only in UserInfo.
      if (idToken.email === undefined && server.userinfo_endpoint) {
        const userinfo = await oauth.userInfoRequest(
          server,
          client,
          tokens.access_token,
          httpOptions(server.userinfo_endpoint),
        );
        claims = {
          ...idToken,
          ...(await oauth.processUserInfoResponse(server, client, idToken.sub, userinfo)),
        };
      }
      return {
        provider: `oidc:${server.issuer}`,
        subject: idToken.sub,
        email: typeof claims.email === 'string' ? claims.email : null,
        emailVerified: claims.email_verified === true,
        displayName: typeof claims.name === 'string' ? claims.name : null,
      };
    },
  };
}

const GitHubUserSchema = z.object({
  id: z.number().int(),
  login: z.string(),
  name: z.string().nullable().optional(),
});

const GitHubEmailsSchema = z.array(
  z.object({ email: z.string(), primary: z.boolean(), verified: z.boolean() }),
);

function githubProvider(config: Config): IdentityProvider | undefined {
  const { GITHUB_CLIENT_ID: clientId, GITHUB_CLIENT_SECRET: secret } = config;
  if (!clientId || !secret) return undefined;
  const base = (config.GITHUB_OAUTH_BASE_URL ?? 'https://github.com').replace(/\/$/, '');
  const api = (config.GITHUB_API_BASE_URL ?? 'https://api.github.com').replace(/\/$/, '');
  // GitHub is OAuth 2 without discovery: its documented endpoints, written down here.
  const server: oauth.AuthorizationServer = {
    issuer: base,
    authorization_endpoint: `${base}/login/oauth/authorize`,
    token_endpoint: `${base}/login/oauth/access_token`,
  };
  const client: oauth.Client = { client_id: clientId };
  // Numeric ids of github.com and of a GitHub Enterprise server are separate namespaces.
  const provider = base === 'https://github.com' ? 'github' : `github:${base}`;

  async function get<T extends z.ZodType>(token: string, path: string, schema: T) {
    const url = new URL(`${api}${path}`);
    const headers = new Headers({
      accept: 'application/vnd.github+json',
      'x-github-api-version': GITHUB_API_VERSION,
      'user-agent': 'Sparki',
    });
    const response = await oauth.protectedResourceRequest(
      token,
      'GET',
      url,
      headers,
      null,
      httpOptions(api),
    );
    if (!response.ok) {
      throw new ApiError('bad_gateway', `GitHub answered ${response.status} for ${path}`);
    }
    const parsed = schema.safeParse(await response.json());
    if (!parsed.success) throw new ApiError('bad_gateway', `GitHub sent an unexpected ${path}`);
    return parsed.data as z.infer<T>;
  }

  return {
    label: 'GitHub',
    authorizationUrl: (pending, redirectUri) =>
      authorizationUrl(
        server,
        { client_id: clientId, redirect_uri: redirectUri, scope: 'read:user user:email' },
        pending,
      ),
    async complete(pending, callback, redirectUri) {
      const { tokens } = await exchangeCode(
        server,
        client,
        oauth.ClientSecretPost(secret),
        pending,
        callback,
        redirectUri,
        false,
      );
      const user = await get(tokens.access_token, '/user', GitHubUserSchema);
      const emails = await get(tokens.access_token, '/user/emails', GitHubEmailsSchema);
      // Only the primary address counts, and only once GitHub has verified it.
      const primary = emails.find((entry) => entry.primary);
      return {
        provider,
        subject: String(user.id),
        email: primary?.email ?? null,
        emailVerified: primary?.verified === true,
        displayName: user.name || user.login,
      };
    },
  };
}

function configured(config: Config, name: IdpName): IdentityProvider | undefined {
  return name === 'github' ? githubProvider(config) : oidcProvider(config);
}

/** The identity providers this server is configured for, in the order sign-in offers them. */
export function configuredProviders(config: Config): IdpName[] {
  return IDP_PROVIDERS.filter((name) => configured(config, name) !== undefined);
}

export function identityProvider(config: Config, name: IdpName): IdentityProvider {
  const provider = configured(config, name);
  if (!provider) {
    throw new ApiError('not_found', `Sign-in with ${name} is not configured on this server`);
  }
  return provider;
}

/** Turns what oauth4webapi or the network threw into the envelope; never echoes tokens. */
export function providerFailure(c: Context<HonoEnv>, label: string, err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const reason = (err as { code?: string }).code ?? (err as Error).name;
  c.get('logger').warn('idp_sign_in_failed', { provider: label, reason, error: String(err) });
  if (err instanceof oauth.AuthorizationResponseError) {
    return new ApiError('bad_request', `${label} did not complete the sign-in (${err.error})`);
  }
  if (err instanceof oauth.ResponseBodyError) {
    return new ApiError('bad_request', `${label} refused the authorization code (${err.error})`);
  }
  if (
    err instanceof oauth.OperationProcessingError ||
    err instanceof oauth.UnsupportedOperationError ||
    err instanceof oauth.WWWAuthenticateChallengeError
  ) {
    return new ApiError('bad_request', `${label}'s sign-in response failed verification`, {
      reason,
    });
  }
  return new ApiError('bad_gateway', `${label} could not be reached`);
}

export function sealPendingSignIn(key: string, pending: PendingSignIn): Promise<string> {
  return encryptSecret(key, JSON.stringify(pending));
}

export async function openPendingSignIn(
  key: string,
  sealed: string | undefined,
  provider: IdpName,
): Promise<PendingSignIn> {
  const restart = new ApiError(
    'bad_request',
    'No sign-in is in progress in this browser, or it expired; start again',
  );
  if (!sealed) throw restart;
  const plain = await decryptSecret(key, sealed).catch(() => {
    throw restart;
  });
  const parsed = PendingSignInSchema.safeParse(JSON.parse(plain));
  if (!parsed.success || parsed.data.provider !== provider || parsed.data.expiresAt < Date.now()) {
    throw restart;
  }
  return parsed.data;
}
