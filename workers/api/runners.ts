import { createRoute, z } from '@hono/zod-openapi';
import { and, desc, eq, gt, isNull } from 'drizzle-orm';
import type { Context } from 'hono';
import { sha256Hex } from '../../core/digest';
import {
  REGISTRATION_TOKEN_PREFIX,
  RegisterRunnerRequestSchema,
  RegisterRunnerResponseSchema,
  RUNNER_TOKEN_PREFIX,
} from '../../core/runner-protocol';
import { runnerRegistrationTokens, runners } from '../../db/schema';
import { randomSecret } from '../../platform/crypto';
import {
  RUNNER_IDENTITY_HEADER,
  type RunnerIdentity,
  runnerHub,
} from '../../platform/durable-objects';
import { ApiError } from '../../platform/errors';
import { recordAudit } from '../audit';
import { authorizeWorkspace } from '../auth/authorize';
import { bearerToken } from '../bearer';
import type { HonoEnv } from '../context';
import { openApiErrorResponses } from '../errors';
import { skipIdempotencyStorage } from '../middleware/idempotency';
import { rateLimit } from '../middleware/rate-limit';
import { json, jsonBody } from '../openapi';
import { newRouter } from '../router';

const HOUR_MS = 60 * 60 * 1000;
const REGISTRATION_DEFAULT_HOURS = 24;
const REGISTRATION_MAX_HOURS = 30 * 24;
/** The hub writes last_seen_at every 30 s from heartbeats; a runner silent for longer is gone. */
const ONLINE_WITHIN_MS = 90_000;

const WorkspaceParams = z.object({ id: z.uuid() });
const RunnerParams = z.object({ id: z.uuid() });

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

const RunnerSchema = z
  .object({
    id: z.uuid(),
    workspace_id: z.uuid(),
    name: z.string(),
    labels: z.array(z.string()),
    capacity: z.number().int(),
    status: z.enum(['online', 'offline', 'disabled']),
    last_seen_at: z.iso.datetime().nullable(),
    version: z.string().nullable(),
    created_at: z.iso.datetime(),
  })
  .openapi('Runner');

type RunnerRow = typeof runners.$inferSelect;
type TokenRow = typeof runnerRegistrationTokens.$inferSelect;

function runnerStatus(row: RunnerRow, now: number): 'online' | 'offline' | 'disabled' {
  if (row.disabledAt) return 'disabled';
  const recent = row.lastSeenAt !== null && now - row.lastSeenAt.getTime() < ONLINE_WITHIN_MS;
  return row.status === 'online' && recent ? 'online' : 'offline';
}

function toRunner(row: RunnerRow, now = Date.now()) {
  return {
    id: row.id,
    workspace_id: row.workspaceId,
    name: row.name,
    labels: row.labels,
    capacity: row.capacity,
    status: runnerStatus(row, now),
    last_seen_at: row.lastSeenAt?.toISOString() ?? null,
    version: row.version,
    created_at: row.createdAt.toISOString(),
  };
}

function toRegistrationToken(row: TokenRow) {
  return {
    id: row.id,
    created_at: row.createdAt.toISOString(),
    expires_at: row.expiresAt.toISOString(),
    revoked: row.revokedAt !== null,
    created_by: row.createdBy,
  };
}

/** The runner, if the caller may act on it with `minimum`; 404 outside its workspace. */
async function authorizeRunner(c: Context<HonoEnv>, runnerId: string, minimum: 'admin') {
  const [runner] = await c
    .get('services')
    .db()
    .select()
    .from(runners)
    .where(eq(runners.id, runnerId));
  if (!runner) throw new ApiError('not_found', 'Runner not found');
  try {
    return { runner, access: await authorizeWorkspace(c, runner.workspaceId, minimum) };
  } catch (err) {
    if (err instanceof ApiError && err.code === 'not_found') {
      throw new ApiError('not_found', 'Runner not found');
    }
    throw err;
  }
}

export const runnerRoutes = newRouter();

runnerRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/api/workspaces/{id}/runner-registration-tokens',
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
    const created = await c
      .get('services')
      .db()
      .transaction(async (tx) => {
        const [row] = await tx
          .insert(runnerRegistrationTokens)
          .values({
            workspaceId: id,
            tokenHash: await sha256Hex(token),
            createdBy: access.userId,
            expiresAt: new Date(Date.now() + input.expires_in_hours * HOUR_MS),
          })
          .returning();
        await recordAudit(tx, c, {
          action: 'runner_registration_token.created',
          workspaceId: id,
          actorRole: access.role,
          targetType: 'runner_registration_token',
          targetId: row!.id,
          metadata: { expires_at: row!.expiresAt.toISOString() },
        });
        return row!;
      });
    skipIdempotencyStorage(c);
    c.header('Cache-Control', 'no-store');
    return c.json({ ...toRegistrationToken(created), token }, 201);
  },
);

runnerRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/api/workspaces/{id}/runner-registration-tokens',
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
    const rows = await c
      .get('services')
      .db()
      .select()
      .from(runnerRegistrationTokens)
      .where(eq(runnerRegistrationTokens.workspaceId, id))
      .orderBy(desc(runnerRegistrationTokens.createdAt));
    return c.json({ tokens: rows.map(toRegistrationToken) }, 200);
  },
);

runnerRoutes.openapi(
  createRoute({
    method: 'delete',
    path: '/api/workspaces/{id}/runner-registration-tokens/{tokenId}',
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
    const revoked = await c
      .get('services')
      .db()
      .transaction(async (tx) => {
        const [row] = await tx
          .update(runnerRegistrationTokens)
          .set({ revokedAt: new Date() })
          .where(
            and(
              eq(runnerRegistrationTokens.id, tokenId),
              eq(runnerRegistrationTokens.workspaceId, id),
              isNull(runnerRegistrationTokens.revokedAt),
            ),
          )
          .returning({ id: runnerRegistrationTokens.id });
        if (!row) return false;
        await recordAudit(tx, c, {
          action: 'runner_registration_token.revoked',
          workspaceId: id,
          actorRole: access.role,
          targetType: 'runner_registration_token',
          targetId: tokenId,
        });
        return true;
      });
    if (!revoked) throw new ApiError('not_found', 'Registration token not found');
    return c.body(null, 204);
  },
);

runnerRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/api/runners/register',
    tags: ['runners'],
    summary: 'Exchange a registration token for a runner token (no other authentication)',
    description: `The runner token (prefix \`${RUNNER_TOKEN_PREFIX}\`) is returned only in this answer; only its hash is stored. Failed attempts are rate limited per client address.`,
    middleware: [rateLimit('runner_register')],
    request: jsonBody(RegisterRunnerRequestSchema),
    responses: {
      201: {
        description: 'Registered',
        ...json(RegisterRunnerResponseSchema),
      },
      401: { description: 'Unknown, expired or revoked registration token' },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const input = c.req.valid('json');
    const runnerToken = randomSecret(RUNNER_TOKEN_PREFIX);
    const registrationHash = await sha256Hex(input.registration_token);
    const runnerHash = await sha256Hex(runnerToken);
    const runner = await c
      .get('services')
      .db()
      .transaction(async (tx) => {
        const [registration] = await tx
          .select()
          .from(runnerRegistrationTokens)
          .where(
            and(
              eq(runnerRegistrationTokens.tokenHash, registrationHash),
              isNull(runnerRegistrationTokens.revokedAt),
              gt(runnerRegistrationTokens.expiresAt, new Date()),
            ),
          );
        if (!registration) return undefined;
        const [row] = await tx
          .insert(runners)
          .values({
            workspaceId: registration.workspaceId,
            name: input.name,
            labels: input.labels,
            capacity: input.capacity,
            tokenHash: runnerHash,
            version: input.version ?? null,
          })
          .returning();
        await recordAudit(tx, c, {
          action: 'runner.registered',
          workspaceId: registration.workspaceId,
          actorId: null,
          targetType: 'runner',
          targetId: row!.id,
          metadata: {
            name: input.name,
            labels: input.labels,
            capacity: input.capacity,
            registration_token_id: registration.id,
          },
        });
        return row!;
      });
    if (!runner) {
      throw new ApiError('unauthorized', 'Unknown, expired or revoked registration token');
    }
    skipIdempotencyStorage(c);
    c.header('Cache-Control', 'no-store');
    return c.json({ runner_id: runner.id, runner_token: runnerToken }, 201);
  },
);

runnerRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/api/workspaces/{id}/runners',
    tags: ['runners'],
    summary: 'Runners of this workspace with their state and last contact (viewer)',
    request: { params: WorkspaceParams },
    responses: {
      200: { description: 'Runners', ...json(z.object({ runners: z.array(RunnerSchema) })) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    await authorizeWorkspace(c, id, 'viewer');
    const rows = await c
      .get('services')
      .db()
      .select()
      .from(runners)
      .where(eq(runners.workspaceId, id))
      .orderBy(runners.name);
    const now = Date.now();
    return c.json({ runners: rows.map((row) => toRunner(row, now)) }, 200);
  },
);

runnerRoutes.openapi(
  createRoute({
    method: 'patch',
    path: '/api/runners/{id}',
    tags: ['runners'],
    summary: 'Disable or enable a runner (admin)',
    description:
      'Disabling closes its connection at once; its running jobs are offered to other runners, and it cannot connect again until enabled.',
    request: {
      params: RunnerParams,
      ...jsonBody(z.object({ disabled: z.boolean() }).openapi('UpdateRunner')),
    },
    responses: {
      200: { description: 'Updated', ...json(RunnerSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const { disabled } = c.req.valid('json');
    const { access } = await authorizeRunner(c, id, 'admin');
    const updated = await c
      .get('services')
      .db()
      .transaction(async (tx) => {
        const [row] = await tx
          .update(runners)
          .set(
            disabled
              ? { disabledAt: new Date(), status: 'disabled' }
              : { disabledAt: null, status: 'offline' },
          )
          .where(eq(runners.id, id))
          .returning();
        await recordAudit(tx, c, {
          action: disabled ? 'runner.disabled' : 'runner.enabled',
          workspaceId: access.workspaceId,
          actorRole: access.role,
          targetType: 'runner',
          targetId: id,
        });
        return row!;
      });
    if (disabled) {
      await runnerHub(c.env, access.workspaceId).disconnectRunner(id, 'Runner disabled');
    }
    return c.json(toRunner(updated), 200);
  },
);

runnerRoutes.openapi(
  createRoute({
    method: 'delete',
    path: '/api/runners/{id}',
    tags: ['runners'],
    summary: 'Delete a runner (admin); its token stops working and its jobs are offered again',
    request: { params: RunnerParams },
    responses: {
      204: { description: 'Deleted' },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const { runner, access } = await authorizeRunner(c, id, 'admin');
    await c
      .get('services')
      .db()
      .transaction(async (tx) => {
        await tx.delete(runners).where(eq(runners.id, id));
        await recordAudit(tx, c, {
          action: 'runner.deleted',
          workspaceId: access.workspaceId,
          actorRole: access.role,
          targetType: 'runner',
          targetId: id,
          metadata: { name: runner.name },
        });
      });
    await runnerHub(c.env, access.workspaceId).disconnectRunner(id, 'Runner deleted');
    return c.body(null, 204);
  },
);

/**
 * The runners' WebSocket, mounted ahead of the user authentication: the runner token is its
 * credential, checked here before the upgrade is handed to the workspace's RunnerHub.
 */
export const runnerConnectRoutes = newRouter();

runnerConnectRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/api/runners/connect',
    tags: ['runner protocol'],
    summary: 'The runner’s WebSocket to its workspace’s RunnerHub',
    description:
      'Upgrade with `Authorization: Bearer <runner token>`. Frames are JSON: `RunnerMessage` from the runner, `HubMessage` from the hub (core/runner-protocol.ts).',
    responses: {
      101: { description: 'Switching protocols' },
      401: { description: 'Unknown runner token' },
      403: { description: 'The runner is disabled' },
      426: { description: 'Not a WebSocket upgrade' },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') {
      throw new ApiError('upgrade_required', 'Connect with a WebSocket upgrade');
    }
    const token = bearerToken(c);
    if (!token?.startsWith(RUNNER_TOKEN_PREFIX)) {
      throw new ApiError('unauthorized', 'A runner token is required');
    }
    const [runner] = await c
      .get('services')
      .db()
      .select()
      .from(runners)
      .where(eq(runners.tokenHash, await sha256Hex(token)));
    if (!runner) throw new ApiError('unauthorized', 'Unknown runner token');
    if (runner.disabledAt) throw new ApiError('forbidden', 'This runner is disabled');
    const identity: RunnerIdentity = {
      runnerId: runner.id,
      name: runner.name,
      labels: runner.labels,
      capacity: runner.capacity,
    };
    const headers = new Headers(c.req.raw.headers);
    headers.set(RUNNER_IDENTITY_HEADER, JSON.stringify(identity));
    return runnerHub(c.env, runner.workspaceId).fetch(new Request(c.req.raw, { headers }));
  },
);
