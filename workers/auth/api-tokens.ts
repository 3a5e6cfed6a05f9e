import { createRoute, z } from '@hono/zod-openapi';
import { scopeCeiling, TOKEN_SCOPES, type TokenScope } from '../../core/roles';
import {
  type ApiTokenRow,
  apiTokensOf,
  createApiToken,
  revokeApiToken,
} from '../../domain/accounts/api-tokens';
import { randomSecret } from '../../platform/crypto';
import { ApiError } from '../../platform/errors';
import { auditFor } from '../audit';
import { openApiErrorResponses } from '../errors';
import { skipIdempotencyStorage } from '../middleware/idempotency';
import { iso, json, jsonBody } from '../openapi';
import { newRouter } from '../router';
import { authorizeWorkspace } from './authorize';
import { PAT_PREFIX, requireSession } from './principal';

export const PAT_MAX_DAYS = 365;
export const PAT_DEFAULT_DAYS = 90;
/** Enough of the token to tell tokens apart in a list; far too little to guess the rest. */
export const DISPLAY_PREFIX_LENGTH = PAT_PREFIX.length + 6;
const DAY_MS = 24 * 60 * 60 * 1000;

const ScopeSchema = z.enum(TOKEN_SCOPES).openapi({
  description:
    'read acts as a viewer, write as a developer, admin as an admin of the workspace; never above your own role',
});

const CreateTokenSchema = z
  .object({
    name: z.string().trim().min(1).max(100).openapi({ example: 'laptop CLI' }),
    workspace_id: z.uuid(),
    scope: ScopeSchema,
    expires_in_days: z.number().int().min(1).max(PAT_MAX_DAYS).default(PAT_DEFAULT_DAYS),
  })
  .openapi('CreateApiToken');

const ApiTokenSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    prefix: z.string().openapi({ example: 'spk_pat_Xq3vT9' }),
    scope: ScopeSchema,
    workspace_id: z.uuid(),
    workspace_slug: z.string(),
    created_at: z.iso.datetime(),
    expires_at: z.iso.datetime().nullable(),
    last_used_at: z.iso.datetime().nullable(),
    revoked: z.boolean(),
  })
  .openapi('ApiToken');

const CreatedApiTokenSchema = ApiTokenSchema.extend({
  token: z.string().openapi({ description: 'The secret; shown only in this answer' }),
}).openapi('CreatedApiToken');

function toApiToken(row: ApiTokenRow, workspaceSlug: string) {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scope: row.scopes[0] as TokenScope,
    workspace_id: row.workspaceId,
    workspace_slug: workspaceSlug,
    created_at: row.createdAt.toISOString(),
    expires_at: iso(row.expiresAt),
    last_used_at: iso(row.lastUsedAt),
    revoked: row.revokedAt !== null,
  };
}

/** `/api/me/tokens`: personal access tokens, each for one workspace. */
export const apiTokenRoutes = newRouter();

apiTokenRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/tokens',
    tags: ['tokens'],
    summary: 'Create a personal access token for one workspace',
    description:
      'The token (prefix `spk_pat_`) is returned only in this answer; only its hash is stored. Send it as `Authorization: Bearer`.',
    request: jsonBody(CreateTokenSchema),
    responses: {
      201: { description: 'Created', ...json(CreatedApiTokenSchema) },
      403: { description: 'Your role is below what the scope allows' },
      404: { description: 'No such workspace among yours' },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const principal = requireSession(c);
    const input = c.req.valid('json');
    const access = await authorizeWorkspace(c, input.workspace_id, scopeCeiling(input.scope));
    const token = randomSecret(PAT_PREFIX);
    const created = await createApiToken(
      c.get('services').db(),
      {
        userId: principal.userId,
        workspaceId: input.workspace_id,
        name: input.name,
        prefix: token.slice(0, DISPLAY_PREFIX_LENGTH),
        secret: token,
        scope: input.scope,
        expiresAt: new Date(Date.now() + input.expires_in_days * DAY_MS),
      },
      auditFor(c, access),
    );
    skipIdempotencyStorage(c);
    c.header('Cache-Control', 'no-store');
    return c.json({ ...toApiToken(created.token, created.slug), token }, 201);
  },
);

apiTokenRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/tokens',
    tags: ['tokens'],
    summary: 'Your personal access tokens (never their secrets)',
    responses: {
      200: { description: 'Yours', ...json(z.object({ tokens: z.array(ApiTokenSchema) })) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const principal = requireSession(c);
    const rows = await apiTokensOf(c.get('services').db(), principal.userId);
    return c.json({ tokens: rows.map((row) => toApiToken(row.token, row.slug)) }, 200);
  },
);

apiTokenRoutes.openapi(
  createRoute({
    method: 'delete',
    path: '/tokens/{id}',
    tags: ['tokens'],
    summary: 'Revoke one of your personal access tokens; it stops working at once',
    request: { params: z.object({ id: z.uuid() }) },
    responses: {
      204: { description: 'Revoked' },
      404: { description: 'No such live token among yours' },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const principal = requireSession(c);
    const { id } = c.req.valid('param');
    const revoked = await revokeApiToken(c.get('services').db(), principal.userId, id, auditFor(c));
    if (!revoked) throw new ApiError('not_found', 'Token not found');
    return c.body(null, 204);
  },
);
