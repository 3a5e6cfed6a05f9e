import { createRoute } from '@hono/zod-openapi';
import type { User } from '../../db/schema';
import { findUser, setDisplayName } from '../../domain/accounts/users';
import { ApiError } from '../../platform/errors';
import { auditFor } from '../audit';
import { openApiErrorResponses } from '../errors';
import { json, jsonBody } from '../openapi';
import { authenticated, newRouter } from '../router';
import { apiTokenRoutes } from './api-tokens';
import { mfaRoutes } from './mfa-routes';
import { requirePrincipal, requireSession } from './principal';
import { UpdateProfileSchema, UserSchema } from './schemas';

function toUser(user: User) {
  return {
    id: user.id,
    email: user.email,
    display_name: user.displayName,
    email_verified: user.emailVerifiedAt !== null,
    mfa_enabled: user.mfaEnabledAt !== null,
    created_at: user.createdAt.toISOString(),
  };
}

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
    return c.json(toUser(user), 200);
  },
);

meRoutes.openapi(
  createRoute({
    method: 'patch',
    path: '/',
    tags: ['auth'],
    summary: 'Change your profile (the name shown to the members of your workspaces)',
    request: jsonBody(UpdateProfileSchema),
    responses: { 200: { description: 'You', ...json(UserSchema) }, ...openApiErrorResponses },
  }),
  async (c) => {
    const principal = requireSession(c);
    const { display_name } = c.req.valid('json');
    const user = await setDisplayName(
      c.get('services').db(),
      principal.userId,
      display_name || null,
      auditFor(c),
    );
    if (!user) throw new ApiError('unauthorized', 'Authentication required');
    return c.json(toUser(user), 200);
  },
);

/** `/api/me`: the signed-in user, their personal access tokens and second factor. */
export const meApp = authenticated(meRoutes, apiTokenRoutes, mfaRoutes);
