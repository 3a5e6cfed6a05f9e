import { createRoute, z } from '@hono/zod-openapi';
import { and, desc, eq, gt, isNull } from 'drizzle-orm';
import type { Context } from 'hono';
import { deleteCookie, getCookie } from 'hono/cookie';
import { sessions, users } from '../../db/schema';
import { ApiError } from '../../platform/errors';
import { tokenLink } from '../../platform/mail/mailer';
import { mailerFor } from '../../platform/mail/select';
import { hashPassword, verifyAgainstDummy, verifyPassword } from '../../platform/password';
import { signingKeys } from '../../platform/tokens/access-tokens';
import { recordAudit } from '../audit';
import type { HonoEnv } from '../context';
import { openApiErrorResponses } from '../errors';
import { rateLimit } from '../middleware/rate-limit';
import { newRouter } from '../router';
import { consumeEmailToken, createEmailToken } from './email-tokens';
import { startMfaStep } from './mfa';
import { MfaChallengeSchema } from './mfa-schemas';
import { ACCESS_COOKIE, REFRESH_COOKIE, requireSession } from './principal';
import {
  AcceptedSchema,
  CookieSessionSchema,
  EmailTokenSchema,
  LoginSchema,
  PasswordResetConfirmSchema,
  PasswordResetRequestSchema,
  RefreshSchema,
  SessionSchema,
  SignupSchema,
  TokenPairSchema,
  UserSchema,
} from './schemas';
import { REFRESH_REUSE_GRACE_SECONDS, revokeSession, rotateRefreshToken } from './sessions';
import { sessionBody, signIn } from './sign-in';

const json = <T extends z.ZodType>(schema: T) => ({ content: { 'application/json': { schema } } });
const body = <T extends z.ZodType>(schema: T) => ({ body: { ...json(schema), required: true } });
const INVALID_CREDENTIALS = 'Email or password is incorrect';

function link(c: Context<HonoEnv>, page: string, token: string) {
  return tokenLink(c.get('services').config.PUBLIC_URL, page, token);
}

function mailer(c: Context<HonoEnv>) {
  return mailerFor(c.get('services').config, c.env.LOGS);
}

function toUser(row: typeof users.$inferSelect) {
  return {
    id: row.id,
    email: row.email,
    display_name: row.displayName,
    email_verified: row.emailVerifiedAt !== null,
    mfa_enabled: row.mfaEnabledAt !== null,
    created_at: row.createdAt.toISOString(),
  };
}

export const authRoutes = newRouter();

authRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/api/auth/signup',
    middleware: [rateLimit('signup')] as const,
    tags: ['auth'],
    summary: 'Create an account; a verification link is mailed',
    description: 'Answers the same whether or not the address already has an account.',
    request: body(SignupSchema),
    responses: {
      202: { description: 'Verification mail sent', ...json(AcceptedSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const input = c.req.valid('json');
    const db = c.get('services').db();
    const passwordHash = await hashPassword(input.password);
    const created = await db.transaction(async (tx) => {
      const [user] = await tx
        .insert(users)
        .values({ email: input.email, passwordHash, displayName: input.display_name ?? null })
        .onConflictDoNothing()
        .returning();
      if (!user) return undefined;
      await recordAudit(tx, c, {
        action: 'user.signup',
        actorId: user.id,
        targetType: 'user',
        targetId: user.id,
      });
      return { user, token: await createEmailToken(tx, user.id, 'verify_email') };
    });
    await mailer(c).send(
      created
        ? {
            to: input.email,
            subject: 'Verify your Sparki account',
            text: `Confirm your address: ${link(c, 'verify-email', created.token)}`,
          }
        : {
            to: input.email,
            subject: 'Your Sparki account',
            text: 'Someone tried to sign up with this address, which already has an account. Sign in or reset your password instead.',
          },
    );
    return c.json({ status: 'verification_sent' }, 202);
  },
);

authRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/api/auth/verify-email',
    tags: ['auth'],
    summary: 'Confirm an address with the token from the verification mail',
    request: body(EmailTokenSchema),
    responses: {
      200: { description: 'Verified', ...json(AcceptedSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { token } = c.req.valid('json');
    const verified = await c
      .get('services')
      .db()
      .transaction(async (tx) => {
        const userId = await consumeEmailToken(tx, token, 'verify_email');
        if (!userId) return false;
        await tx.update(users).set({ emailVerifiedAt: new Date() }).where(eq(users.id, userId));
        await recordAudit(tx, c, {
          action: 'user.email_verified',
          actorId: userId,
          targetType: 'user',
          targetId: userId,
        });
        return true;
      });
    if (!verified)
      throw new ApiError('bad_request', 'The verification link is invalid, used or expired');
    return c.json({ status: 'verified' }, 200);
  },
);

authRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/api/auth/login',
    middleware: [rateLimit('login')] as const,
    tags: ['auth'],
    summary: 'Sign in with email and password',
    description:
      'For an account with MFA the answer is an `MfaChallenge`: finish with POST /api/auth/mfa/verify.',
    request: body(LoginSchema),
    responses: {
      200: {
        description: 'Signed in: a token pair, or cookies when `session` is `cookie`',
        content: {
          'application/json': {
            schema: z.union([TokenPairSchema, CookieSessionSchema, MfaChallengeSchema]),
          },
        },
      },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const input = c.req.valid('json');
    const db = c.get('services').db();
    const [user] = await db.select().from(users).where(eq(users.email, input.email));
    if (!user?.passwordHash) {
      await verifyAgainstDummy(input.password);
      throw new ApiError('unauthorized', INVALID_CREDENTIALS);
    }
    const check = await verifyPassword(input.password, user.passwordHash);
    if (!check.ok || user.disabledAt) {
      await recordAudit(db, c, {
        action: 'auth.login',
        actorId: user.id,
        targetType: 'user',
        targetId: user.id,
        result: 'failure',
      });
      throw new ApiError('unauthorized', INVALID_CREDENTIALS);
    }
    if (!user.emailVerifiedAt) {
      throw new ApiError(
        'email_not_verified',
        'Confirm your email address first; the link was mailed at signup',
      );
    }
    const outcome = await db.transaction(async (tx) => {
      if (check.needsRehash) {
        await tx
          .update(users)
          .set({ passwordHash: await hashPassword(input.password) })
          .where(eq(users.id, user.id));
      }
      if (user.mfaEnabledAt) return { mfa: await startMfaStep(c, tx, user.id) };
      return { tokens: await signIn(c, tx, user.id) };
    });
    if ('mfa' in outcome) return c.json(outcome.mfa, 200);
    return c.json(sessionBody(c, outcome.tokens, input.session), 200);
  },
);

authRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/api/auth/refresh',
    middleware: [rateLimit('token_refresh')] as const,
    tags: ['auth'],
    summary: 'Exchange a refresh token for a new pair (the old one stops working)',
    description: `Presenting a spent refresh token again revokes its whole session, except the previous token within ${REFRESH_REUSE_GRACE_SECONDS} s of its rotation while no later token of the session has been used: that gets another pair (two tabs refreshing at once).`,
    request: { body: { ...json(RefreshSchema), required: false } },
    responses: {
      200: {
        description: 'Rotated',
        content: {
          'application/json': { schema: z.union([TokenPairSchema, CookieSessionSchema]) },
        },
      },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const fromBody = c.req.header('content-type')?.includes('json')
      ? c.req.valid('json').refresh_token
      : undefined;
    const cookie = getCookie(c, REFRESH_COOKIE);
    const presented = fromBody ?? cookie;
    if (!presented) throw new ApiError('unauthorized', 'No refresh token presented');
    const tokens = await rotateRefreshToken(c, presented);
    return c.json(sessionBody(c, tokens, fromBody ? 'token' : 'cookie'), 200);
  },
);

authRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/api/auth/logout',
    tags: ['auth'],
    summary: 'End the current session',
    responses: { 204: { description: 'Signed out' }, ...openApiErrorResponses },
  }),
  async (c) => {
    const principal = requireSession(c);
    await c
      .get('services')
      .db()
      .transaction(async (tx) => {
        await revokeSession(tx, principal.sessionId);
        await recordAudit(tx, c, {
          action: 'auth.logout',
          targetType: 'session',
          targetId: principal.sessionId,
        });
      });
    deleteCookie(c, ACCESS_COOKIE, { path: '/', secure: true });
    deleteCookie(c, REFRESH_COOKIE, { path: '/', secure: true });
    return c.body(null, 204);
  },
);

authRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/api/auth/password-reset',
    middleware: [rateLimit('password_reset')] as const,
    tags: ['auth'],
    summary: 'Mail a password reset link',
    description: 'Answers the same whether or not the address has an account.',
    request: body(PasswordResetRequestSchema),
    responses: {
      202: { description: 'Mail sent if the account exists', ...json(AcceptedSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { email } = c.req.valid('json');
    const db = c.get('services').db();
    const [user] = await db.select({ id: users.id }).from(users).where(eq(users.email, email));
    if (user) {
      const token = await createEmailToken(db, user.id, 'reset_password');
      await mailer(c).send({
        to: email,
        subject: 'Reset your Sparki password',
        text: `Choose a new password (valid for one hour): ${link(c, 'reset-password', token)}`,
      });
    }
    return c.json({ status: 'reset_mail_sent_if_account_exists' }, 202);
  },
);

authRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/api/auth/password-reset/confirm',
    middleware: [rateLimit('password_reset_confirm')] as const,
    tags: ['auth'],
    summary: 'Set a new password with the mailed token; every session is signed out',
    request: body(PasswordResetConfirmSchema),
    responses: {
      200: { description: 'Password changed', ...json(AcceptedSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const input = c.req.valid('json');
    const passwordHash = await hashPassword(input.password);
    const changed = await c
      .get('services')
      .db()
      .transaction(async (tx) => {
        const userId = await consumeEmailToken(tx, input.token, 'reset_password');
        if (!userId) return false;
        // Following the link proves the mailbox, so it also verifies the address.
        await tx
          .update(users)
          .set({ passwordHash, emailVerifiedAt: new Date() })
          .where(eq(users.id, userId));
        const live = await tx
          .select({ id: sessions.id })
          .from(sessions)
          .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt)));
        for (const session of live) await revokeSession(tx, session.id);
        await recordAudit(tx, c, {
          action: 'user.password_reset',
          actorId: userId,
          targetType: 'user',
          targetId: userId,
        });
        return true;
      });
    if (!changed) throw new ApiError('bad_request', 'The reset link is invalid, used or expired');
    return c.json({ status: 'password_changed' }, 200);
  },
);

authRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/api/me',
    tags: ['auth'],
    summary: 'The signed-in user',
    responses: { 200: { description: 'You', ...json(UserSchema) }, ...openApiErrorResponses },
  }),
  async (c) => {
    const principal = c.get('principal');
    if (!principal) throw new ApiError('unauthorized', 'Authentication required');
    const [user] = await c
      .get('services')
      .db()
      .select()
      .from(users)
      .where(eq(users.id, principal.userId));
    if (!user) throw new ApiError('unauthorized', 'Authentication required');
    return c.json(toUser(user), 200);
  },
);

authRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/api/auth/sessions',
    tags: ['auth'],
    summary: 'Your active sessions',
    responses: {
      200: { description: 'Sessions', ...json(z.object({ sessions: z.array(SessionSchema) })) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const principal = requireSession(c);
    const rows = await c
      .get('services')
      .db()
      .select()
      .from(sessions)
      .where(
        and(
          eq(sessions.userId, principal.userId),
          isNull(sessions.revokedAt),
          gt(sessions.expiresAt, new Date()),
        ),
      )
      .orderBy(desc(sessions.lastSeenAt));
    return c.json(
      {
        sessions: rows.map((row) => ({
          id: row.id,
          user_agent: row.userAgent,
          ip: row.ip,
          created_at: row.createdAt.toISOString(),
          last_seen_at: row.lastSeenAt.toISOString(),
          current: row.id === principal.sessionId,
        })),
      },
      200,
    );
  },
);

authRoutes.openapi(
  createRoute({
    method: 'delete',
    path: '/api/auth/sessions/{id}',
    tags: ['auth'],
    summary: 'Revoke one of your sessions',
    request: { params: z.object({ id: z.uuid() }) },
    responses: { 204: { description: 'Revoked' }, ...openApiErrorResponses },
  }),
  async (c) => {
    const principal = requireSession(c);
    const { id } = c.req.valid('param');
    const revoked = await c
      .get('services')
      .db()
      .transaction(async (tx) => {
        const [owned] = await tx
          .select({ id: sessions.id })
          .from(sessions)
          .where(
            and(
              eq(sessions.id, id),
              eq(sessions.userId, principal.userId),
              isNull(sessions.revokedAt),
            ),
          );
        if (!owned) return false;
        await revokeSession(tx, id);
        await recordAudit(tx, c, {
          action: 'auth.session_revoked',
          targetType: 'session',
          targetId: id,
        });
        return true;
      });
    if (!revoked) throw new ApiError('not_found', 'Session not found');
    return c.body(null, 204);
  },
);

authRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/.well-known/jwks.json',
    tags: ['auth'],
    summary: 'Public keys that verify access tokens (all keys live during a rotation)',
    responses: {
      200: {
        description: 'JWK Set',
        ...json(z.object({ keys: z.array(z.record(z.string(), z.unknown())) })),
      },
    },
  }),
  async (c) => {
    const keys = await signingKeys(c.get('services').config.JWT_SIGNING_KEYS);
    c.header('Cache-Control', 'public, max-age=300');
    return c.json({ keys: keys.publicJwks }, 200);
  },
);
