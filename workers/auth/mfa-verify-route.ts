import { createRoute, z } from '@hono/zod-openapi';
import { ApiError } from '../../platform/errors';
import { recordAudit } from '../audit';
import { openApiErrorResponses } from '../errors';
import { type AccountKey, rateLimit } from '../middleware/rate-limit';
import { json, jsonBody } from '../openapi';
import { newRouter } from '../router';
import {
  consumeSecondFactor,
  lockMfaChallenge,
  mfaChallengeUser,
  settleMfaChallenge,
  unusedRecoveryCodes,
} from './mfa';
import { MfaVerifySchema } from './mfa-schemas';
import { CookieSessionSchema, TokenPairSchema } from './schemas';
import { sessionBody, signIn } from './sign-in';

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
    const outcome = await db().transaction(async (tx) => {
      const open = await lockMfaChallenge(tx, input.mfa_token);
      if (!open) return { kind: 'expired' } as const;
      const { user } = open;
      const factor = await consumeSecondFactor(tx, config.ENCRYPTION_KEY, user, input);
      await settleMfaChallenge(tx, open.challengeId, factor !== null);
      const audit = { actorId: user.id, targetType: 'user', targetId: user.id };
      if (!factor) {
        await recordAudit(tx, c, { ...audit, action: 'auth.mfa_failed', result: 'failure' });
        return { kind: 'wrong' } as const;
      }
      if (factor === 'recovery_code') {
        await recordAudit(tx, c, {
          ...audit,
          action: 'mfa.recovery_code_used',
          metadata: { remaining: await unusedRecoveryCodes(tx, user.id) },
        });
      }
      return { kind: 'signed_in', tokens: await signIn(c, tx, user.id, { mfa: factor }) } as const;
    });
    if (outcome.kind === 'expired') {
      throw new ApiError(
        'unauthorized',
        'This sign-in step has expired or is finished; sign in again',
      );
    }
    if (outcome.kind === 'wrong') throw new ApiError('unauthorized', 'The code is incorrect');
    return c.json(sessionBody(c, outcome.tokens, input.session), 200);
  },
);
