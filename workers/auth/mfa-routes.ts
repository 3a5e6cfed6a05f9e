import { createRoute } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { encryptSecret } from '../../core/secret-box';
import { newTotpSecret, totpUri } from '../../core/totp';
import type { Transaction } from '../../db/client';
import type { User } from '../../db/schema';
import { findUser } from '../../domain/accounts/users';
import { ApiError } from '../../platform/errors';
import { recordAudit } from '../audit';
import type { HonoEnv } from '../context';
import { openApiErrorResponses } from '../errors';
import { rateLimit } from '../middleware/rate-limit';
import { json, jsonBody } from '../openapi';
import { newRouter } from '../router';
import {
  consumeSecondFactor,
  disableMfa,
  enableMfa,
  passwordMatches,
  replaceRecoveryCodes,
  type SecondFactorProof,
  setPendingTotpSecret,
  unusedRecoveryCodes,
} from './mfa';
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

function requireMfaOn(user: User) {
  if (!user.mfaEnabledAt) throw new ApiError('conflict', 'Two-factor authentication is not on');
}

/** Secrets shown once must not linger in a browser or proxy cache. */
function noStore(c: Context<HonoEnv>) {
  c.header('Cache-Control', 'no-store');
}

/**
 * Runs an MFA change only after the password (when the account has one) and a second factor
 * check out; the attempt is audited as `action` either way, the change in the same transaction.
 */
async function reauthenticated<T>(
  c: Context<HonoEnv>,
  user: User,
  proof: SecondFactorProof & { password?: string | undefined },
  action: string,
  change: (tx: Transaction) => Promise<T>,
): Promise<T> {
  const { config, db } = c.get('services');
  const passwordOk = await passwordMatches(user, proof.password);
  const outcome = await db().transaction(async (tx) => {
    const factor = passwordOk
      ? await consumeSecondFactor(tx, config.ENCRYPTION_KEY, user, proof)
      : null;
    const audit = { action, targetType: 'user', targetId: user.id };
    if (!factor) {
      await recordAudit(tx, c, { ...audit, result: 'failure' });
      return { ok: false } as const;
    }
    const value = await change(tx);
    await recordAudit(tx, c, { ...audit, metadata: { factor } });
    return { ok: true, value } as const;
  });
  if (!outcome.ok) throw new ApiError('unauthorized', 'Password or code is incorrect');
  return outcome.value;
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
    await db().transaction(async (tx) => {
      const pending = await setPendingTotpSecret(tx, user.id, sealed);
      if (!pending) throw new ApiError('conflict', 'Two-factor authentication is already on');
      await recordAudit(tx, c, {
        action: 'mfa.enrolment_started',
        targetType: 'user',
        targetId: user.id,
      });
    });
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
    middleware: [rateLimit('mfa')] as const,
    responses: {
      200: { description: 'MFA is on', ...json(RecoveryCodesSchema) },
      401: { description: 'The code is not valid' },
      409: { description: 'MFA is already on' },
      ...openApiErrorResponses,
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
    const codes = await db().transaction(async (tx) => {
      if (!(await consumeSecondFactor(tx, config.ENCRYPTION_KEY, user, { code }))) return null;
      const enabled = await enableMfa(tx, user.id, pendingSecret);
      if (!enabled) throw new ApiError('conflict', 'Enrolment changed meanwhile; start again');
      const issued = await replaceRecoveryCodes(tx, user.id);
      await recordAudit(tx, c, { action: 'mfa.enabled', targetType: 'user', targetId: user.id });
      return issued;
    });
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
    middleware: [rateLimit('mfa')] as const,
    responses: {
      200: { description: 'New codes', ...json(RecoveryCodesSchema) },
      401: { description: 'Password or code is incorrect' },
      409: { description: 'MFA is not on' },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const user = await signedInUser(c);
    requireMfaOn(user);
    const codes = await reauthenticated(
      c,
      user,
      c.req.valid('json'),
      'mfa.recovery_codes_regenerated',
      (tx) => replaceRecoveryCodes(tx, user.id),
    );
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
    middleware: [rateLimit('mfa')] as const,
    responses: {
      204: { description: 'MFA is off; the secret and recovery codes are deleted' },
      401: { description: 'Password or code is incorrect' },
      409: { description: 'MFA is not on' },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const user = await signedInUser(c);
    requireMfaOn(user);
    await reauthenticated(c, user, c.req.valid('json'), 'mfa.disabled', (tx) =>
      disableMfa(tx, user.id),
    );
    return c.body(null, 204);
  },
);
