import { newRouter } from '../router';
import { deviceFlowRoutes } from './device-routes';
import { mfaVerifyRoutes } from './mfa-verify-route';
import { oidcRoutes } from './oidc-routes';
import { noTokensInQuery } from './principal';
import { signInRoutes } from './sign-in-routes';

/**
 * `/api/auth` sign-in, public: password, second factor, identity providers and the device's side
 * of device sign-in (RFC 8628). Nobody is
 * identified yet; tokens in the query string are refused all the same. The account's own routes
 * under the same prefix (`sessionsApp`) are authenticated by their own router.
 */
export const signInApp = newRouter()
  .use(noTokensInQuery())
  .route('/', signInRoutes)
  .route('/', mfaVerifyRoutes)
  .route('/', oidcRoutes)
  .route('/', deviceFlowRoutes);
