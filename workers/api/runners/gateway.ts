import { createRoute } from '@hono/zod-openapi';
import {
  RegisterRunnerRequestSchema,
  RegisterRunnerResponseSchema,
  RUNNER_TOKEN_PREFIX,
} from '../../../core/runner-protocol';
import { registerRunner, runnerByToken } from '../../../domain/runners/registry';
import { randomSecret } from '../../../platform/crypto';
import {
  RUNNER_IDENTITY_HEADER,
  type RunnerIdentity,
  runnerHub,
} from '../../../platform/durable-objects';
import { ApiError } from '../../../platform/errors';
import { auditFor } from '../../audit';
import { bearerToken } from '../../bearer';
import { openApiErrorResponses } from '../../errors';
import { rateLimit } from '../../middleware/rate-limit';
import { json, jsonBody } from '../../openapi';
import { newRouter } from '../../router';

/**
 * `/api/runners/register` and `/api/runners/connect`, public: a runner proves itself with its
 * registration token, then with its runner token, never as a user.
 */
export const runnerGatewayApp = newRouter();

runnerGatewayApp.openapi(
  createRoute({
    method: 'post',
    path: '/register',
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
    const runner = await registerRunner(
      c.get('services').db(),
      {
        registrationToken: input.registration_token,
        runnerToken,
        name: input.name,
        labels: input.labels,
        capacity: input.capacity,
        version: input.version ?? null,
      },
      auditFor(c),
    );
    if (!runner) {
      throw new ApiError('unauthorized', 'Unknown, expired or revoked registration token');
    }
    c.header('Cache-Control', 'no-store');
    return c.json({ runner_id: runner.id, runner_token: runnerToken }, 201);
  },
);

runnerGatewayApp.openapi(
  createRoute({
    method: 'get',
    path: '/connect',
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
    const runner = await runnerByToken(c.get('services').db(), token);
    if (!runner) throw new ApiError('unauthorized', 'Unknown runner token');
    if (runner.disabledAt) throw new ApiError('forbidden', 'This runner is disabled');
    const identity: RunnerIdentity = {
      runnerId: runner.id,
      name: runner.name,
      labels: runner.labels,
      capacity: runner.capacity,
      workspaceId: runner.workspaceId,
    };
    const headers = new Headers(c.req.raw.headers);
    headers.set(RUNNER_IDENTITY_HEADER, JSON.stringify(identity));
    return runnerHub(c.env, runner.workspaceId).fetch(new Request(c.req.raw, { headers }));
  },
);
