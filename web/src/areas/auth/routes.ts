import { acceptInviteRoute } from './accept-invite';
import { accountRoute } from './account';
import { deviceRoute } from './device';
import { forgotPasswordRoute } from './forgot-password';
import { loginMfaRoute } from './login-mfa';
import { resetPasswordRoute } from './reset-password';
import { signInRoute } from './sign-in';
import { signUpRoute } from './sign-up';
import { verifyEmailRoute } from './verify-email';

export const publicRoutes = [
  signInRoute,
  signUpRoute,
  loginMfaRoute,
  verifyEmailRoute,
  forgotPasswordRoute,
  resetPasswordRoute,
  acceptInviteRoute,
] as const;
export const accountRoutes = [accountRoute, deviceRoute] as const;
