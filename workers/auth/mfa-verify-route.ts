import { createRoute, z } from '@hono/zod-openapi';
import { finishMfaSignIn, mfaChallengeUser } from '../../domain/accounts/sign-in';
import { ApiError } from '../../platform/errors';
import { auditFor } from '../audit';
import { openApiErrorResponses } from '../errors';
import { type AccountKey, rateLimit } from '../middleware/rate-limit';
import { json, jsonBody } from '../openapi';
import { newRouter } from '../router';
import { MfaVerifySchema } from './mfa-schemas';
import { CookieSessionSchema, TokenPairSchema } from './schemas';
import { issueTokens, sessionBody, sessionClient } from './sign-in';

/** Wrong codes count against the account the sign-in step belongs to, not only the address. */
const challengedAccount: AccountKey = async (c) => {
  const body: unknown = await c.req.json().catch(() => undefined);
  const token =
    body && typeof body === 'object' && 'mfa_token' in body ? body.mfa_token : undefined;
  if (typeof token !== 'string') return undefined;
  const userId = await mfaChallengeUser(c.get('services').db(), token);
  return userId ? `user:${userId}` : undefined;
};

/** `/api/auth/mfa/verify`, public: the second step of a sign-in. */
export const mfaVerifyRoutes = newRouter();

mfaVerifyRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/mfa/verify',
    tags: ['auth', 'mfa'],
    summary: 'Finish a sign-in that answered `mfa_required` with a TOTP code or a recovery code',
    description: `The \`mfa_token\` lives five minutes and allows five wrong codes; then sign in again.`,
    request: jsonBody(MfaVerifySchema),
    middleware: [rateLimit('mfa', { account: challengedAccount })] as const,
    responses: {
      200: {
        description: 'Signed in: a token pair, or cookies when `session` is `cookie`',
        ...json(z.union([TokenPairSchema, CookieSessionSchema])),
      },
      401: { description: 'Wrong code, or the sign-in step expired' },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const input = c.req.valid('json');
    const { config, db } = c.get('services');
    const outcome = await finishMfaSignIn(
      db(),
      config.ENCRYPTION_KEY,
      input.mfa_token,
      input,
      sessionClient(c),
      auditFor(c),
    );
    if (outcome.kind === 'expired') {
      throw new ApiError(
        'unauthorized',
        'This sign-in step has expired or is finished; sign in again',
      );
    }
    if (outcome.kind === 'wrong') throw new ApiError('unauthorized', 'The code is incorrect');
    return c.json(sessionBody(c, await issueTokens(c, outcome.session), input.session), 200);
  },
);
