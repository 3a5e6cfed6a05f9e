import { resource } from '../router';
import { mfaVerifyRoutes } from './mfa-verify-route';
import { oidcRoutes } from './oidc-routes';
import { signInRoutes } from './sign-in-routes';

/**
 * `/api/auth` sign-in, public: password, second factor and identity providers. The account's own
 * routes under the same prefix (`sessionsApp`) are authenticated by their own router.
 */
export const signInApp = resource(signInRoutes, mfaVerifyRoutes, oidcRoutes);
