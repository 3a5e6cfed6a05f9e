import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { scopeCeiling, TOKEN_SCOPES } from '../../core/roles';
import { revokeApiToken } from '../../domain/accounts/api-tokens';
import {
  DEVICE_CODE_TTL_SECONDS,
  DEVICE_POLL_INTERVAL_SECONDS,
  type DeviceDecision,
  type DevicePoll,
  decideDeviceGrant,
  normalizeUserCode,
  pendingDeviceGrant,
  pollDeviceGrant,
  startDeviceGrant,
} from '../../domain/accounts/device-grants';
import { randomSecret } from '../../platform/crypto';
import { ApiError } from '../../platform/errors';
import { auditFor, recordAudit } from '../audit';
import type { HonoEnv } from '../context';
import { errorBody, errorResponse, openApiErrorResponses } from '../errors';
import { rateLimit } from '../middleware/rate-limit';
import { iso, json, jsonBody } from '../openapi';
import { authenticated, newRouter } from '../router';
import { DISPLAY_PREFIX_LENGTH, PAT_DEFAULT_DAYS } from './api-tokens';
import { authorizeWorkspace } from './authorize';
import { PAT_PREFIX, requirePrincipal, requireSession } from './principal';

const DAY_MS = 24 * 60 * 60 * 1000;
const DEFAULT_CLIENT_NAME = 'sparki CLI';

const DeviceCodeRequestSchema = z
  .object({
    client_name: z.string().trim().min(1).max(100).optional().openapi({
      description:
        'What is asking, shown to the approving user and used as the token’s name; `sparki CLI` when omitted',
      example: 'sparki CLI on laptop',
    }),
  })
  .openapi('DeviceCodeRequest');

const DeviceCodeSchema = z
  .object({
    device_code: z.string().openapi({ description: 'The device’s secret; poll with it' }),
    user_code: z.string().openapi({ example: 'BCDF-GHJK' }),
    verification_uri: z.url().openapi({ example: 'https://sparki.example.com/device' }),
    verification_uri_complete: z
      .url()
      .openapi({ example: 'https://sparki.example.com/device?user_code=BCDF-GHJK' }),
    expires_in: z.number().int().openapi({ example: DEVICE_CODE_TTL_SECONDS }),
    interval: z.number().int().openapi({ example: DEVICE_POLL_INTERVAL_SECONDS }),
  })
  .openapi('DeviceCode');

const DeviceTokenRequestSchema = z
  .object({
    device_code: z.string().min(1).max(200),
    grant_type: z
      .literal('urn:ietf:params:oauth:grant-type:device_code')
      .optional()
      .openapi({ description: 'RFC 8628’s grant type; may be omitted' }),
  })
  .openapi('DeviceTokenRequest');

const DeviceTokenSchema = z
  .object({
    access_token: z.string().openapi({
      description: 'A personal access token (`spk_pat_…`); send it as `Authorization: Bearer`',
    }),
    token_type: z.literal('Bearer'),
    token_id: z.uuid().openapi({ description: 'Listed (and revocable) under /api/me/tokens' }),
    workspace_id: z.uuid(),
    scope: z.enum(TOKEN_SCOPES),
    expires_in: z.number().int(),
  })
  .openapi('DeviceToken');

const DeviceGrantSchema = z
  .object({
    user_code: z.string().openapi({ example: 'BCDF-GHJK' }),
    client_name: z.string().openapi({ example: 'sparki CLI on laptop' }),
    request_ip: z.string().nullable(),
    request_user_agent: z.string().nullable(),
    created_at: z.iso.datetime(),
    expires_at: z.iso.datetime(),
  })
  .openapi('DeviceGrant');

const ApproveDeviceSchema = z
  .object({
    workspace_id: z.uuid().openapi({ description: 'The workspace the token works in' }),
    scope: z.enum(TOKEN_SCOPES).default('write').openapi({
      description: 'As for personal access tokens: never above your role in the workspace',
    }),
  })
  .openapi('ApproveDevice');

const UserCodeParam = z.object({
  user_code: z
    .string()
    .min(1)
    .max(20)
    .openapi({ param: { name: 'user_code', in: 'path' }, example: 'BCDF-GHJK' }),
});

function verificationUri(c: Context<HonoEnv>): string {
  return `${c.get('services').config.PUBLIC_URL.replace(/\/$/, '')}/device`;
}

/** The grant's user code as stored, or a 404 like any code that names no pending grant. */
function userCodeOf(input: string): string {
  const code = normalizeUserCode(input);
  if (!code) throw new ApiError('not_found', 'No pending sign-in request has this code');
  return code;
}

/** RFC 8628 §3.5's answers while the device waits, in the shared error envelope. */
const POLL_MESSAGES: Record<Exclude<DevicePoll['kind'], 'token'>, string> = {
  invalid_grant: 'Unknown device code, or its token was already issued',
  expired_token: 'The code expired before anyone approved it; start again',
  slow_down: 'Polling too fast; wait longer between polls',
  authorization_pending: 'Waiting for someone to approve the code',
  access_denied: 'The request was denied',
};

/** `/api/auth/device/code` and `/token`: the device's side, public (the device code is the credential). */
export const deviceFlowRoutes = newRouter();

deviceFlowRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/device/code',
    tags: ['auth'],
    summary: 'Start a device sign-in (RFC 8628): a device code to poll with and a user code',
    description:
      'For `sparki login` and other devices without a browser at hand: show `user_code` and `verification_uri` (or open `verification_uri_complete`), then poll `POST /api/auth/device/token` every `interval` seconds until a signed-in user approves the code in the dashboard or it expires.',
    middleware: [rateLimit('device_code')] as const,
    request: { body: { ...json(DeviceCodeRequestSchema), required: false } },
    responses: {
      200: { description: 'Started', ...json(DeviceCodeSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const input = c.req.valid('json') ?? {};
    const started = await startDeviceGrant(c.get('services').db(), {
      clientName: input.client_name ?? DEFAULT_CLIENT_NAME,
      ip: c.req.header('cf-connecting-ip') ?? null,
      userAgent: c.req.header('user-agent') ?? null,
    });
    const uri = verificationUri(c);
    c.header('Cache-Control', 'no-store');
    return c.json(
      {
        device_code: started.deviceCode,
        user_code: started.userCode,
        verification_uri: uri,
        verification_uri_complete: `${uri}?user_code=${started.userCode}`,
        expires_in: started.expiresIn,
        interval: started.interval,
      },
      200,
    );
  },
);

deviceFlowRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/device/token',
    tags: ['auth'],
    summary: 'Poll a device sign-in: the token once the user code is approved',
    description:
      'Takes JSON (not RFC 6749’s form encoding). While there is no token, answers 400 in the shared error envelope with RFC 8628’s error as `error.code`: `authorization_pending` (poll again after `interval`), `slow_down` (polled sooner than the interval: add 5 seconds; `error.details.interval` has the new one), `access_denied`, `expired_token` (start again), or `invalid_grant` (unknown code, or the token was already issued: each code gives one token). The token is a personal access token named after the device, listed and revocable on the account page.',
    request: jsonBody(DeviceTokenRequestSchema),
    responses: {
      200: { description: 'Approved: the token, shown only here', ...json(DeviceTokenSchema) },
      ...openApiErrorResponses,
      400: errorResponse(
        '`authorization_pending`, `slow_down`, `access_denied`, `expired_token`, `invalid_grant`, or the request failed validation',
      ),
    },
  }),
  async (c) => {
    const { device_code } = c.req.valid('json');
    const secret = randomSecret(PAT_PREFIX);
    const expiresAt = new Date(Date.now() + PAT_DEFAULT_DAYS * DAY_MS);
    const poll = await pollDeviceGrant(
      c.get('services').db(),
      device_code,
      { prefix: secret.slice(0, DISPLAY_PREFIX_LENGTH), secret, expiresAt },
      (tx, entry) => recordAudit(tx, c, entry),
    );
    c.header('Cache-Control', 'no-store');
    if (poll.kind !== 'token') {
      const details = poll.kind === 'slow_down' ? { interval: poll.interval } : undefined;
      return c.json(errorBody(c, poll.kind, POLL_MESSAGES[poll.kind], details), 400);
    }
    return c.json(
      {
        access_token: secret,
        token_type: 'Bearer' as const,
        token_id: poll.tokenId,
        workspace_id: poll.workspaceId,
        scope: poll.scope,
        expires_in: Math.round((poll.expiresAt.getTime() - Date.now()) / 1000),
      },
      200,
    );
  },
);

const deviceApprovalRoutes = newRouter();

deviceApprovalRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/device/{user_code}',
    tags: ['auth'],
    summary: 'What asks to sign in with this user code, while it waits for a decision',
    description:
      'For the dashboard’s `/device` page. Codes are typed by people: case, spaces and the dash do not matter.',
    request: { params: UserCodeParam },
    responses: {
      200: { description: 'Waiting', ...json(DeviceGrantSchema) },
      404: errorResponse('No pending request has this code (unknown, expired or decided)'),
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    requireSession(c);
    const grant = await pendingDeviceGrant(
      c.get('services').db(),
      userCodeOf(c.req.valid('param').user_code),
    );
    if (!grant) throw new ApiError('not_found', 'No pending sign-in request has this code');
    return c.json(
      {
        user_code: grant.userCode,
        client_name: grant.clientName,
        request_ip: grant.requestIp,
        request_user_agent: grant.requestUserAgent,
        created_at: grant.createdAt.toISOString(),
        expires_at: iso(grant.expiresAt)!,
      },
      200,
    );
  },
);

async function decide(c: Context<HonoEnv>, userCode: string, decision: DeviceDecision) {
  const access =
    decision.approve &&
    (await authorizeWorkspace(c, decision.workspaceId, scopeCeiling(decision.scope)));
  const grant = await decideDeviceGrant(
    c.get('services').db(),
    userCodeOf(userCode),
    decision,
    auditFor(c, access || undefined),
  );
  if (!grant) throw new ApiError('not_found', 'No pending sign-in request has this code');
  return c.body(null, 204);
}

deviceApprovalRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/device/{user_code}/approve',
    tags: ['auth'],
    summary: 'Approve a device sign-in: its next poll gets a token for this workspace',
    description:
      'Needs a signed-in session (an account with MFA has passed it to have one). The token acts as you in the workspace, capped by the scope. Audited as `device_grant.approved`.',
    request: { params: UserCodeParam, ...jsonBody(ApproveDeviceSchema) },
    responses: {
      204: { description: 'Approved' },
      403: errorResponse('Your role is below what the scope allows, or an API token called'),
      404: errorResponse('No pending request has this code, or no such workspace among yours'),
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const principal = requireSession(c);
    const { workspace_id, scope } = c.req.valid('json');
    return decide(c, c.req.valid('param').user_code, {
      approve: true,
      userId: principal.userId,
      workspaceId: workspace_id,
      scope,
    });
  },
);

deviceApprovalRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/device/{user_code}/deny',
    tags: ['auth'],
    summary: 'Deny a device sign-in: its next poll hears `access_denied`',
    request: { params: UserCodeParam },
    responses: {
      204: { description: 'Denied' },
      404: errorResponse('No pending request has this code'),
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const principal = requireSession(c);
    return decide(c, c.req.valid('param').user_code, { approve: false, userId: principal.userId });
  },
);

deviceApprovalRoutes.openapi(
  createRoute({
    method: 'delete',
    path: '/token',
    tags: ['auth'],
    summary: 'Revoke the personal access token this request is made with (`sparki logout`)',
    responses: {
      204: { description: 'Revoked; the token is refused from now on' },
      ...openApiErrorResponses,
      400: errorResponse('Called with a session, not a personal access token'),
    },
  }),
  async (c) => {
    const principal = requirePrincipal(c);
    if (principal.kind !== 'token') {
      throw new ApiError('bad_request', 'Call this with the personal access token to revoke');
    }
    await revokeApiToken(c.get('services').db(), principal.userId, principal.tokenId, auditFor(c));
    return c.body(null, 204);
  },
);

/** `/api/auth/device/{user_code}…` and `/api/auth/token`: the signed-in side of device sign-in. */
export const deviceApprovalApp = authenticated(deviceApprovalRoutes);
