import { z } from '@hono/zod-openapi';
import { RECOVERY_CODE_COUNT } from '../../core/recovery-codes';
import { TOTP_DIGITS } from '../../core/totp';

const TotpCodeSchema = z
  .string()
  .regex(new RegExp(`^\\d{${TOTP_DIGITS}}$`), `${TOTP_DIGITS} digits`)
  .openapi({ description: 'The current code from the authenticator app', example: '492039' });

const RecoveryCodeSchema = z.string().min(1).max(64).openapi({
  description: 'One of the recovery codes; each works once',
  example: '7k2m-q9xd-4hwe-b3ta',
});

const SecondFactorFields = {
  code: TotpCodeSchema.optional(),
  recovery_code: RecoveryCodeSchema.optional(),
};

const exactlyOneFactor = {
  check: (input: { code?: string | undefined; recovery_code?: string | undefined }) =>
    (input.code === undefined) !== (input.recovery_code === undefined),
  params: { message: 'Give either code or recovery_code', path: ['code'] },
};

const PasswordField = z.string().min(1).max(256).optional().openapi({
  description:
    'The account password; required unless the account signs in only through an identity provider',
});

export const MfaChallengeSchema = z
  .object({
    mfa_required: z.literal(true),
    mfa_token: z.string().openapi({ description: 'Pass to POST /api/auth/mfa/verify' }),
    expires_in: z.number().int().openapi({ description: 'Seconds the sign-in step stays open' }),
  })
  .openapi('MfaChallenge');

export const MfaVerifySchema = z
  .object({
    mfa_token: z.string().min(1).max(200),
    ...SecondFactorFields,
    session: z.enum(['token', 'cookie']).default('token').openapi({
      description: '`cookie` for the dashboard: tokens go in __Host- HttpOnly cookies.',
    }),
  })
  .refine(exactlyOneFactor.check, exactlyOneFactor.params)
  .openapi('MfaVerifyRequest');

export const TotpEnrolmentSchema = z
  .object({
    otpauth_uri: z.string().openapi({
      description: 'For a QR code; contains the secret, so it is shown only now',
      example:
        'otpauth://totp/Sparki:ada%40example.com?issuer=Sparki&secret=…&algorithm=SHA1&digits=6&period=30',
    }),
    secret: z.string().openapi({ description: 'Base32 secret for manual entry; shown only now' }),
  })
  .openapi('TotpEnrolment');

export const TotpConfirmSchema = z.object({ code: TotpCodeSchema }).openapi('TotpConfirmRequest');

export const RecoveryCodesSchema = z
  .object({
    recovery_codes: z.array(z.string()).length(RECOVERY_CODE_COUNT).openapi({
      description: 'Single-use codes for when the authenticator is lost; shown only now',
    }),
  })
  .openapi('RecoveryCodes');

export const RegenerateRecoveryCodesSchema = z
  .object({ password: PasswordField, code: TotpCodeSchema })
  .openapi('RegenerateRecoveryCodesRequest');

export const DisableMfaSchema = z
  .object({ password: PasswordField, ...SecondFactorFields })
  .refine(exactlyOneFactor.check, exactlyOneFactor.params)
  .openapi('DisableMfaRequest');

export const MfaStatusSchema = z
  .object({
    enabled: z.boolean(),
    enabled_at: z.iso.datetime().nullable(),
    enrolment_pending: z.boolean(),
    recovery_codes_remaining: z.number().int(),
  })
  .openapi('MfaStatus');
