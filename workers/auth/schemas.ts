import { z } from '@hono/zod-openapi';

export const EmailSchema = z
  .email()
  .max(254)
  .transform((email) => email.trim().toLowerCase())
  .openapi({ example: 'ada@example.com' });

// NIST 800-63B: length over composition rules; the upper bound keeps hashing cost bounded.
export const PasswordSchema = z
  .string()
  .min(10)
  .max(256)
  .openapi({ example: 'correct horse battery' });

export const SignupSchema = z
  .object({
    email: EmailSchema,
    password: PasswordSchema,
    display_name: z.string().max(100).optional(),
  })
  .openapi('SignupRequest');

export const LoginSchema = z
  .object({
    email: EmailSchema,
    password: z.string().min(1).max(256),
    session: z.enum(['token', 'cookie']).default('token').openapi({
      description: '`cookie` for the dashboard: tokens go in __Host- HttpOnly cookies.',
    }),
  })
  .openapi('LoginRequest');

export const TokenPairSchema = z
  .object({
    access_token: z.string(),
    refresh_token: z.string(),
    token_type: z.literal('Bearer'),
    expires_in: z.number().int(),
    session_id: z.uuid(),
  })
  .openapi('TokenPair');

export const CookieSessionSchema = z
  .object({ session_id: z.uuid(), expires_in: z.number().int() })
  .openapi('CookieSession');

export const RefreshSchema = z
  .object({ refresh_token: z.string().min(1).optional() })
  .openapi('RefreshRequest');

export const EmailTokenSchema = z
  .object({ token: z.string().min(1).max(200) })
  .openapi('EmailToken');

export const PasswordResetRequestSchema = z
  .object({ email: EmailSchema })
  .openapi('PasswordResetRequest');

export const PasswordResetConfirmSchema = z
  .object({ token: z.string().min(1).max(200), password: PasswordSchema })
  .openapi('PasswordResetConfirm');

export const AcceptedSchema = z.object({ status: z.string() }).openapi('Accepted');

export const UserSchema = z
  .object({
    id: z.uuid(),
    email: z.string(),
    display_name: z.string().nullable(),
    email_verified: z.boolean(),
    mfa_enabled: z.boolean(),
    created_at: z.iso.datetime(),
  })
  .openapi('User');

export const UpdateProfileSchema = z
  .object({
    display_name: z.string().trim().max(100).nullable().openapi({
      description: 'Your name; empty or null shows your email address instead',
      example: 'Ada Lovelace',
    }),
  })
  .openapi('UpdateProfile');

export const SessionSchema = z
  .object({
    id: z.uuid(),
    user_agent: z.string().nullable(),
    ip: z.string().nullable(),
    created_at: z.iso.datetime(),
    last_seen_at: z.iso.datetime(),
    current: z.boolean(),
  })
  .openapi('Session');
