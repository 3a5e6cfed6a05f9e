import { createRoute } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { encryptSecret } from '../../core/secret-box';
import { newTotpSecret, totpUri } from '../../core/totp';
import type { User } from '../../db/schema';
import {
  confirmTotpEnrolment,
  disableMfa,
  type MfaChangeRequest,
  type Reauthentication,
  regenerateRecoveryCodes,
  startTotpEnrolment,
  unusedRecoveryCodes,
} from '../../domain/accounts/mfa';
import { findUser } from '../../domain/accounts/users';
import { ApiError } from '../../platform/errors';
import { auditFor } from '../audit';
import type { HonoEnv } from '../context';
import { openApiErrorResponses } from '../errors';
import { rateLimit } from '../middleware/rate-limit';
import { json, jsonBody } from '../openapi';
import { newRouter } from '../router';
import {
  DisableMfaSchema,
  MfaStatusSchema,
  RecoveryCodesSchema,
  RegenerateRecoveryCodesSchema,
  TotpConfirmSchema,
  TotpEnrolmentSchema,
} from './mfa-schemas';
import { requireSession } from './principal';

async function signedInUser(c: Context<HonoEnv>): Promise<User> {
  const principal = requireSession(c);
  const user = await findUser(c.get('services').db(), principal.userId);
  if (!user) throw new ApiError('unauthorized', 'Authentication required');
  return user;
}

/** Secrets shown once must not linger in a browser or proxy cache. */
function noStore(c: Context<HonoEnv>) {
  c.header('Cache-Control', 'no-store');
}

/** A route that checks a code is limited like a sign-in, so codes cannot be guessed here either. */
const checksCode = rateLimit('mfa');

/** The answers of a route that checks a code: a wrong one (401), or MFA in the other state (409). */
function codeRefusals(wrong: string, conflict: string) {
  return { 401: { description: wrong }, 409: { description: conflict }, ...openApiErrorResponses };
}

/** A change of the signed-in user's second factor, which must be on. */
async function mfaChange(c: Context<HonoEnv>, proof: Reauthentication): Promise<MfaChangeRequest> {
  const user = await signedInUser(c);
  if (!user.mfaEnabledAt) throw new ApiError('conflict', 'Two-factor authentication is not on');
  return {
    user,
    proof,
    encryptionKey: c.get('services').config.ENCRYPTION_KEY,
    audit: auditFor(c),
  };
}

function reauthenticationFailed(): ApiError {
  return new ApiError('unauthorized', 'Password or code is incorrect');
}

/** `/api/me/mfa`: turning the second factor on and off, recovery codes. */
export const mfaRoutes = newRouter();

mfaRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/mfa',
    tags: ['mfa'],
    summary: 'Whether two-factor authentication is on, and how many recovery codes are left',
    responses: {
      200: { description: 'Status', ...json(MfaStatusSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const user = await signedInUser(c);
    return c.json(
      {
        enabled: user.mfaEnabledAt !== null,
        enabled_at: user.mfaEnabledAt?.toISOString() ?? null,
        enrolment_pending: user.mfaEnabledAt === null && user.totpSecretEncrypted !== null,
        recovery_codes_remaining: await unusedRecoveryCodes(c.get('services').db(), user.id),
      },
      200,
    );
  },
);

mfaRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/mfa/totp',
    tags: ['mfa'],
    summary: 'Start TOTP enrolment: a new secret for an authenticator app',
    description:
      'The secret is returned only in this answer. MFA is not on until the first code is confirmed; starting again replaces a pending secret.',
    responses: {
      201: {
        description: 'Scan the URI or type the secret, then confirm',
        ...json(TotpEnrolmentSchema),
      },
      409: { description: 'MFA is already on' },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const user = await signedInUser(c);
    const { config, db } = c.get('services');
    if (user.mfaEnabledAt) {
      throw new ApiError('conflict', 'Two-factor authentication is already on; turn it off first');
    }
    const secret = newTotpSecret();
    const sealed = await encryptSecret(config.ENCRYPTION_KEY, secret);
    if (!(await startTotpEnrolment(db(), user.id, sealed, auditFor(c)))) {
      throw new ApiError('conflict', 'Two-factor authentication is already on');
    }
    noStore(c);
    return c.json({ otpauth_uri: totpUri(secret, user.email), secret }, 201);
  },
);

mfaRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/mfa/totp/confirm',
    tags: ['mfa'],
    summary: 'Confirm enrolment with a code; MFA turns on and ten recovery codes are issued',
    description: 'The recovery codes are returned only in this answer.',
    request: jsonBody(TotpConfirmSchema),
    middleware: checksCode,
    responses: {
      200: { description: 'MFA is on', ...json(RecoveryCodesSchema) },
      ...codeRefusals('The code is not valid', 'MFA is already on'),
    },
  }),
  async (c) => {
    const user = await signedInUser(c);
    const { code } = c.req.valid('json');
    const { config, db } = c.get('services');
    if (user.mfaEnabledAt)
      throw new ApiError('conflict', 'Two-factor authentication is already on');
    const pendingSecret = user.totpSecretEncrypted;
    if (!pendingSecret) {
      throw new ApiError('bad_request', 'Start enrolment first (POST /api/me/mfa/totp)');
    }
    const codes = await confirmTotpEnrolment(
      db(),
      config.ENCRYPTION_KEY,
      { id: user.id, totpSecretEncrypted: pendingSecret },
      code,
      auditFor(c),
    );
    if (!codes) {
      throw new ApiError(
        'unauthorized',
        'The code is not valid; enter the current one from the app',
      );
    }
    noStore(c);
    return c.json({ recovery_codes: codes }, 200);
  },
);

mfaRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/mfa/recovery-codes',
    tags: ['mfa'],
    summary: 'Replace your recovery codes (needs your password and a current code)',
    description: 'The old codes stop working; the new ones are returned only in this answer.',
    request: jsonBody(RegenerateRecoveryCodesSchema),
    middleware: checksCode,
    responses: {
      200: { description: 'New codes', ...json(RecoveryCodesSchema) },
      ...codeRefusals('Password or code is incorrect', 'MFA is not on'),
    },
  }),
  async (c) => {
    const change = await mfaChange(c, c.req.valid('json'));
    const codes = await regenerateRecoveryCodes(c.get('services').db(), change);
    if (!codes) throw reauthenticationFailed();
    noStore(c);
    return c.json({ recovery_codes: codes }, 200);
  },
);

mfaRoutes.openapi(
  createRoute({
    method: 'delete',
    path: '/mfa',
    tags: ['mfa'],
    summary: 'Turn MFA off (needs your password and a current code or a recovery code)',
    request: jsonBody(DisableMfaSchema),
    middleware: checksCode,
    responses: {
      204: { description: 'MFA is off; the secret and recovery codes are deleted' },
      ...codeRefusals('Password or code is incorrect', 'MFA is not on'),
    },
  }),
  async (c) => {
    const change = await mfaChange(c, c.req.valid('json'));
    if (!(await disableMfa(c.get('services').db(), change))) {
      throw reauthenticationFailed();
    }
    return c.body(null, 204);
  },
);
