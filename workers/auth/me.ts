import { createRoute } from '@hono/zod-openapi';
import { findUser } from '../../domain/accounts/users';
import { ApiError } from '../../platform/errors';
import { openApiErrorResponses } from '../errors';
import { json } from '../openapi';
import { authenticated, newRouter } from '../router';
import { apiTokenRoutes } from './api-tokens';
import { mfaRoutes } from './mfa-routes';
import { requirePrincipal } from './principal';
import { UserSchema } from './schemas';

const meRoutes = newRouter();

meRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/',
    tags: ['auth'],
    summary: 'The signed-in user',
    responses: { 200: { description: 'You', ...json(UserSchema) }, ...openApiErrorResponses },
  }),
  async (c) => {
    const principal = requirePrincipal(c);
    const user = await findUser(c.get('services').db(), principal.userId);
    if (!user) throw new ApiError('unauthorized', 'Authentication required');
    return c.json(
      {
        id: user.id,
        email: user.email,
        display_name: user.displayName,
        email_verified: user.emailVerifiedAt !== null,
        mfa_enabled: user.mfaEnabledAt !== null,
        created_at: user.createdAt.toISOString(),
      },
      200,
    );
  },
);

/** `/api/me`: the signed-in user, their personal access tokens and second factor. */
export const meApp = authenticated(meRoutes, apiTokenRoutes, mfaRoutes);
