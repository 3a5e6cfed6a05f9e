import { createRoute, z } from '@hono/zod-openapi';
import { REGISTRATION_TOKEN_PREFIX } from '../../../core/runner-protocol';
import {
  createRegistrationToken,
  type RegistrationTokenRow,
  registrationTokensOf,
  revokeRegistrationToken,
  runnersOf,
} from '../../../domain/runners/registry';
import { runningBuildsByRunner } from '../../../domain/workspaces/usage';
import { randomSecret } from '../../../platform/crypto';
import { ApiError } from '../../../platform/errors';
import { auditFor } from '../../audit';
import { authorizeWorkspace } from '../../auth/authorize';
import { openApiErrorResponses } from '../../errors';
import { skipIdempotencyStorage } from '../../middleware/idempotency';
import { json, jsonBody } from '../../openapi';
import { newRouter } from '../../router';
import { RunnerSchema, toRunner } from '../runners/runners';
import { WorkspaceParams } from './members';

const HOUR_MS = 60 * 60 * 1000;
const REGISTRATION_DEFAULT_HOURS = 24;
const REGISTRATION_MAX_HOURS = 30 * 24;

const CreateRegistrationTokenSchema = z
  .object({
    expires_in_hours: z
      .number()
      .int()
      .min(1)
      .max(REGISTRATION_MAX_HOURS)
      .default(REGISTRATION_DEFAULT_HOURS),
  })
  .openapi('CreateRunnerRegistrationToken');

const RegistrationTokenSchema = z
  .object({
    id: z.uuid(),
    created_at: z.iso.datetime(),
    expires_at: z.iso.datetime(),
    revoked: z.boolean(),
    created_by: z.uuid().nullable(),
  })
  .openapi('RunnerRegistrationToken');

const CreatedRegistrationTokenSchema = RegistrationTokenSchema.extend({
  token: z.string().openapi({
    description: `The secret (prefix \`${REGISTRATION_TOKEN_PREFIX}\`); shown only in this answer`,
  }),
}).openapi('CreatedRunnerRegistrationToken');

const WorkspaceRunnerSchema = RunnerSchema.extend({
  running_builds: z.number().int().openapi({
    description: 'Builds it runs now; an online runner with any is busy, at capacity it is full',
  }),
}).openapi('WorkspaceRunner');

function toRegistrationToken(row: RegistrationTokenRow) {
  return {
    id: row.id,
    created_at: row.createdAt.toISOString(),
    expires_at: row.expiresAt.toISOString(),
    revoked: row.revokedAt !== null,
    created_by: row.createdBy,
  };
}

/** `/api/workspaces/{id}/runners` and the registration tokens new runners join with. */
export const workspaceRunnerRoutes = newRouter();

workspaceRunnerRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/{id}/runner-registration-tokens',
    tags: ['runners'],
    summary: 'Mint a registration token for new runners of this workspace (admin)',
    description:
      'Any number of runners may register with it until it expires (24 h by default) or is revoked. Only its hash is stored.',
    request: { params: WorkspaceParams, ...jsonBody(CreateRegistrationTokenSchema) },
    responses: {
      201: { description: 'Created', ...json(CreatedRegistrationTokenSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const input = c.req.valid('json');
    const access = await authorizeWorkspace(c, id, 'admin');
    const token = randomSecret(REGISTRATION_TOKEN_PREFIX);
    const created = await createRegistrationToken(
      c.get('services').db(),
      {
        workspaceId: id,
        secret: token,
        createdBy: access.userId,
        expiresAt: new Date(Date.now() + input.expires_in_hours * HOUR_MS),
      },
      auditFor(c, access),
    );
    skipIdempotencyStorage(c);
    c.header('Cache-Control', 'no-store');
    return c.json({ ...toRegistrationToken(created), token }, 201);
  },
);

workspaceRunnerRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/{id}/runner-registration-tokens',
    tags: ['runners'],
    summary: 'Registration tokens of this workspace, never their secrets (admin)',
    request: { params: WorkspaceParams },
    responses: {
      200: {
        description: 'Tokens, newest first',
        ...json(z.object({ tokens: z.array(RegistrationTokenSchema) })),
      },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    await authorizeWorkspace(c, id, 'admin');
    const rows = await registrationTokensOf(c.get('services').db(), id);
    return c.json({ tokens: rows.map(toRegistrationToken) }, 200);
  },
);

workspaceRunnerRoutes.openapi(
  createRoute({
    method: 'delete',
    path: '/{id}/runner-registration-tokens/{tokenId}',
    tags: ['runners'],
    summary: 'Revoke a registration token (admin); runners it registered keep working',
    request: { params: WorkspaceParams.extend({ tokenId: z.uuid() }) },
    responses: {
      204: { description: 'Revoked' },
      404: { description: 'No such live token in this workspace' },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id, tokenId } = c.req.valid('param');
    const access = await authorizeWorkspace(c, id, 'admin');
    const db = c.get('services').db();
    if (!(await revokeRegistrationToken(db, id, tokenId, auditFor(c, access)))) {
      throw new ApiError('not_found', 'Registration token not found');
    }
    return c.body(null, 204);
  },
);

workspaceRunnerRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/{id}/runners',
    tags: ['runners'],
    summary: 'Runners of this workspace with their state, last contact and running builds (viewer)',
    request: { params: WorkspaceParams },
    responses: {
      200: {
        description: 'Runners',
        ...json(z.object({ runners: z.array(WorkspaceRunnerSchema) })),
      },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    await authorizeWorkspace(c, id, 'viewer');
    const db = c.get('services').db();
    const [rows, running] = await Promise.all([runnersOf(db, id), runningBuildsByRunner(db, id)]);
    const now = Date.now();
    const runners = rows.map((row) => ({
      ...toRunner(row, now),
      running_builds: running.get(row.id) ?? 0,
    }));
    return c.json({ runners }, 200);
  },
);
