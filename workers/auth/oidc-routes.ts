import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import * as oauth from 'oauth4webapi';
import { safeReturnPath } from '../../core/return-to';
import { ApiError } from '../../platform/errors';
import type { HonoEnv } from '../context';
import { errorResponse, openApiErrorResponses } from '../errors';
import { rateLimit } from '../middleware/rate-limit';
import { json } from '../openapi';
import { newRouter } from '../router';
import { signInWithIdentity } from './identity-sign-in';
import {
  configuredProviders,
  IDP_PROVIDERS,
  type IdpName,
  identityProvider,
  openPendingSignIn,
  PENDING_SIGN_IN_TTL_SECONDS,
  providerFailure,
  sealPendingSignIn,
} from './oidc';
import { setSessionCookies } from './sign-in';

// `__Host-`: Secure, host-only, path / — no subdomain can plant or read it.
export const IDP_STATE_COOKIE = '__Host-sparki_idp';

const ProviderParams = z.object({
  provider: z
    .enum(IDP_PROVIDERS)
    .openapi({ param: { name: 'provider', in: 'path' }, example: 'github' }),
});

const redirect = (description: string) => ({
  description,
  headers: z.object({ Location: z.string().openapi({ example: 'https://github.com/login/…' }) }),
});

function publicBase(c: Context<HonoEnv>) {
  return c.get('services').config.PUBLIC_URL.replace(/\/$/, '');
}

function callbackUrl(c: Context<HonoEnv>, provider: IdpName) {
  return `${publicBase(c)}/api/auth/oidc/${provider}/callback`;
}

/** What a sign-in button says for each provider. */
const PROVIDER_LABELS: Record<IdpName, string> = { github: 'GitHub', oidc: 'single sign-on' };

const ProvidersSchema = z
  .object({
    providers: z.array(
      z.object({
        id: z
          .enum(IDP_PROVIDERS)
          .openapi({ description: 'For GET /api/auth/oidc/{provider}/start' }),
        label: z.string().openapi({ example: 'GitHub' }),
      }),
    ),
  })
  .openapi('SignInProviders');

export const oidcRoutes = newRouter();

oidcRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/providers',
    tags: ['auth'],
    summary: 'The identity providers this server offers for sign-in',
    description:
      'Only the configured ones (`OIDC_ISSUER` with its client, `GITHUB_CLIENT_ID` with its secret); the sign-in page shows a button for each.',
    responses: {
      200: { description: 'Configured providers', ...json(ProvidersSchema) },
      ...openApiErrorResponses,
    },
  }),
  (c) => {
    const providers = configuredProviders(c.get('services').config).map((id) => ({
      id,
      label: PROVIDER_LABELS[id],
    }));
    return c.json({ providers }, 200);
  },
);

oidcRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/oidc/{provider}/start',
    tags: ['auth'],
    summary: 'Start signing in with an identity provider (redirects the browser there)',
    description:
      '`oidc` is the OpenID Connect provider in `OIDC_ISSUER`, `github` is GitHub OAuth. State, nonce and the PKCE verifier travel in a 10-minute encrypted `__Host-` cookie.',
    request: {
      params: ProviderParams,
      query: z.object({
        return_to: z.string().max(2048).optional().openapi({
          description: 'A path on this site to land on after signing in',
          example: '/projects',
        }),
      }),
    },
    responses: {
      302: redirect("To the provider's authorization endpoint"),
      404: errorResponse('That provider is not configured on this server'),
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { provider: name } = c.req.valid('param');
    const { return_to } = c.req.valid('query');
    const { config } = c.get('services');
    const provider = identityProvider(config, name);
    const returnTo = safeReturnPath(return_to, config.PUBLIC_URL);
    if (return_to && !returnTo) {
      throw new ApiError('bad_request', 'return_to must be a path on this site');
    }
    const pending = {
      provider: name,
      state: oauth.generateRandomState(),
      nonce: oauth.generateRandomNonce(),
      codeVerifier: oauth.generateRandomCodeVerifier(),
      returnTo,
      expiresAt: Date.now() + PENDING_SIGN_IN_TTL_SECONDS * 1000,
    };
    const url = await provider.authorizationUrl(pending, callbackUrl(c, name)).catch((err) => {
      throw providerFailure(c, provider.label, err);
    });
    setCookie(c, IDP_STATE_COOKIE, await sealPendingSignIn(config.ENCRYPTION_KEY, pending), {
      path: '/',
      secure: true,
      httpOnly: true,
      // Lax: the provider sends the browser back with a top-level GET, which must carry it.
      sameSite: 'Lax',
      maxAge: PENDING_SIGN_IN_TTL_SECONDS,
    });
    return c.redirect(url.href, 302);
  },
);

oidcRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/oidc/{provider}/callback',
    tags: ['auth'],
    summary: 'Where the identity provider sends the browser back; signs in and redirects',
    // A sign-in (and possibly an account creation) per request: limited per address like login.
    middleware: [rateLimit('login', { account: () => undefined })] as const,
    description:
      'Checks state (and for OIDC the ID token: signature against the JWKS, issuer, audience, expiry, nonce), then signs in the linked account. A first sign-in links to the account with the same address, or creates one, only if the provider verified the address. Sets the session cookies and redirects to `return_to` or the dashboard.',
    request: {
      params: ProviderParams,
      query: z.object({
        code: z.string().optional(),
        state: z.string().optional(),
        iss: z.string().optional(),
        error: z.string().optional(),
        error_description: z.string().optional(),
      }),
    },
    responses: {
      302: redirect(
        'Signed in: to `return_to` or the dashboard, with the session cookies set. For an account with MFA: to `/login/mfa#mfa_token=…`, to finish with POST /api/auth/mfa/verify.',
      ),
      403: errorResponse('The provider did not verify the address, or the account cannot sign in'),
      404: errorResponse('That provider is not configured on this server'),
      409: errorResponse('The address belongs to an account whose address was never confirmed'),
      502: errorResponse('The provider could not be reached'),
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { provider: name } = c.req.valid('param');
    const { config } = c.get('services');
    const provider = identityProvider(config, name);
    const sealed = getCookie(c, IDP_STATE_COOKIE);
    // Single use: whatever happens next, this attempt is over.
    deleteCookie(c, IDP_STATE_COOKIE, { path: '/', secure: true });
    const pending = await openPendingSignIn(config.ENCRYPTION_KEY, sealed, name);
    const external = await provider
      .complete(pending, new URL(c.req.url), callbackUrl(c, name))
      .catch((err) => {
        throw providerFailure(c, provider.label, err);
      });
    const outcome = await signInWithIdentity(c, provider.label, external);
    if ('mfaToken' in outcome) {
      // In the fragment, as mailed links do: browsers never send it, so no log records it.
      const fragment = new URLSearchParams({ mfa_token: outcome.mfaToken });
      if (pending.returnTo) fragment.set('return_to', pending.returnTo);
      return c.redirect(`${publicBase(c)}/login/mfa#${fragment}`, 302);
    }
    setSessionCookies(c, outcome.tokens);
    return c.redirect(`${publicBase(c)}${pending.returnTo ?? '/'}`, 302);
  },
);
