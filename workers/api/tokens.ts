import { createRoute, z } from '@hono/zod-openapi';
import { and, desc, eq, isNull } from 'drizzle-orm';
import { sha256Hex } from '../../core/digest';
import { scopeCeiling, TOKEN_SCOPES, type TokenScope } from '../../core/roles';
import { apiTokens, workspaces } from '../../db/schema';
import { randomSecret } from '../../platform/crypto';
import { ApiError } from '../../platform/errors';
import { recordAudit } from '../audit';
import { authorizeWorkspace } from '../auth/authorize';
import { PAT_PREFIX, requireSession } from '../auth/principal';
import { openApiErrorResponses } from '../errors';
import { skipIdempotencyStorage } from '../middleware/idempotency';
import { json, jsonBody } from '../openapi';
import { newRouter } from '../router';

export const PAT_MAX_DAYS = 365;
const PAT_DEFAULT_DAYS = 90;
/** Enough of the token to tell tokens apart in a list; far too little to guess the rest. */
const DISPLAY_PREFIX_LENGTH = PAT_PREFIX.length + 6;
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

type TokenRow = typeof apiTokens.$inferSelect;

function toApiToken(row: TokenRow, workspaceSlug: string) {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scope: row.scopes[0] as TokenScope,
    workspace_id: row.workspaceId,
    workspace_slug: workspaceSlug,
    created_at: row.createdAt.toISOString(),
    expires_at: row.expiresAt?.toISOString() ?? null,
    last_used_at: row.lastUsedAt?.toISOString() ?? null,
    revoked: row.revokedAt !== null,
  };
}

export const tokenRoutes = newRouter();

tokenRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/api/me/tokens',
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
    const created = await c
      .get('services')
      .db()
      .transaction(async (tx) => {
        const [row] = await tx
          .insert(apiTokens)
          .values({
            userId: principal.userId,
            workspaceId: input.workspace_id,
            name: input.name,
            prefix: token.slice(0, DISPLAY_PREFIX_LENGTH),
            tokenHash: await sha256Hex(token),
            scopes: [input.scope],
            expiresAt: new Date(Date.now() + input.expires_in_days * DAY_MS),
          })
          .returning();
        const [workspace] = await tx
          .select({ slug: workspaces.slug })
          .from(workspaces)
          .where(eq(workspaces.id, input.workspace_id));
        await recordAudit(tx, c, {
          action: 'api_token.created',
          workspaceId: input.workspace_id,
          actorRole: access.role,
          targetType: 'api_token',
          targetId: row!.id,
          metadata: { name: input.name, scope: input.scope, prefix: row!.prefix },
        });
        return toApiToken(row!, workspace!.slug);
      });
    skipIdempotencyStorage(c);
    c.header('Cache-Control', 'no-store');
    return c.json({ ...created, token }, 201);
  },
);

tokenRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/api/me/tokens',
    tags: ['tokens'],
    summary: 'Your personal access tokens (never their secrets)',
    responses: {
      200: { description: 'Yours', ...json(z.object({ tokens: z.array(ApiTokenSchema) })) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const principal = requireSession(c);
    const rows = await c
      .get('services')
      .db()
      .select({ token: apiTokens, slug: workspaces.slug })
      .from(apiTokens)
      .innerJoin(workspaces, eq(workspaces.id, apiTokens.workspaceId))
      .where(eq(apiTokens.userId, principal.userId))
      .orderBy(desc(apiTokens.createdAt));
    return c.json({ tokens: rows.map((row) => toApiToken(row.token, row.slug)) }, 200);
  },
);

tokenRoutes.openapi(
  createRoute({
    method: 'delete',
    path: '/api/me/tokens/{id}',
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
    const revoked = await c
      .get('services')
      .db()
      .transaction(async (tx) => {
        const [row] = await tx
          .update(apiTokens)
          .set({ revokedAt: new Date() })
          .where(
            and(
              eq(apiTokens.id, id),
              eq(apiTokens.userId, principal.userId),
              isNull(apiTokens.revokedAt),
            ),
          )
          .returning({ workspaceId: apiTokens.workspaceId, prefix: apiTokens.prefix });
        if (!row) return false;
        await recordAudit(tx, c, {
          action: 'api_token.revoked',
          workspaceId: row.workspaceId,
          targetType: 'api_token',
          targetId: id,
          metadata: { prefix: row.prefix },
        });
        return true;
      });
    if (!revoked) throw new ApiError('not_found', 'Token not found');
    return c.body(null, 204);
  },
);
