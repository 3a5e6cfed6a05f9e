import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builds, deployments, domains, notificationDeliveries } from '../../db/schema';
import {
  type ApiResponse,
  as,
  type Caller,
  type ErrorEnvelope,
  seedTeam,
  type Team,
} from './api-client';
import { fetchWorker, testDb } from './harness';
import { mintRegistrationToken, registerRunner } from './runner-helpers';

// Every operation the API describes, called by someone who must not get through: anonymously, and
// as a signed-in member of another workspace. A route that forgets its gate shows up here by name.
// A new route needs nothing here unless it is public or account-level (say why in PUBLIC or
// OWN_ACCOUNT), takes a new kind of path parameter (resourceIds) or a body its schema cannot
// describe (bodies).

const { db, pool } = testDb();
afterAll(() => pool.end());

/** Anyone may call these: they take no credentials, or credentials a user session is not. */
const PUBLIC: Record<string, string> = {
  'GET /healthz': 'liveness probe',
  'GET /readyz': 'readiness probe',
  'GET /.well-known/jwks.json': 'the public keys access tokens are verified with',
  'POST /api/auth/signup': 'creating an account',
  'POST /api/auth/verify-email': 'the mailed token is the credential',
  'POST /api/auth/login': 'the password is the credential',
  'POST /api/auth/refresh': 'the refresh token is the credential',
  'POST /api/auth/logout': 'ends whatever session the refresh token or cookie names, if any',
  'POST /api/auth/password-reset': 'asking for a reset mail',
  'POST /api/auth/password-reset/confirm': 'the mailed token is the credential',
  'POST /api/auth/mfa/verify': 'the MFA token from login is the credential',
  'GET /api/auth/providers': 'which sign-in buttons the sign-in page shows',
  'GET /api/auth/oidc/{provider}/start': 'signing in through an identity provider',
  'GET /api/auth/oidc/{provider}/callback': 'the provider’s code and the state cookie',
  'GET /api/github-app/callback': 'the sealed state GitHub hands back is the credential',
  'POST /webhooks/github-app': 'signed with the GitHub App’s webhook secret',
  'POST /webhooks/{provider}/{projectId}': 'signed with the project’s webhook secret',
  'POST /webhooks/{provider}': 'signed with a project’s webhook secret',
  'POST /api/runners/register': 'the registration token is the credential',
  'GET /api/runners/connect': 'the runner token is the credential',
  'GET /api/jobs/{buildId}': 'the job token is the credential',
  'POST /api/jobs/{buildId}/logs': 'the job token is the credential',
  'POST /api/jobs/{buildId}/steps': 'the job token is the credential',
  'PUT /api/jobs/{buildId}/artifact': 'the job token is the credential',
  'POST /api/jobs/{buildId}/complete': 'the job token is the credential',
  'POST /api/jobs/{buildId}/commit': 'the job token is the credential',
  'POST /api/jobs/{buildId}/detection': 'the job token is the credential',
  'POST /api/jobs/{buildId}/output/missing': 'the job token is the credential',
  'PUT /api/jobs/{buildId}/blobs/{hash}': 'the job token is the credential',
  'POST /api/jobs/{buildId}/blobs': 'the job token is the credential',
  'PUT /api/jobs/{buildId}/output': 'the job token is the credential',
  'POST /api/jobs/{buildId}/spans': 'the job token is the credential',
  'GET /api/artifacts/{buildId}/output.tar.gz': 'a signed, expiring link is the credential',
  'POST /api/auth/device/code': 'a device asking to sign in (RFC 8628)',
  'POST /api/auth/device/token': 'the device code is the credential',
  'GET /metrics': 'the METRICS_TOKEN bearer is the credential (a 404 where none is configured)',
};

/** Any signed-in user may call these: they act on the caller's own account, not a workspace. */
const OWN_ACCOUNT: Record<string, string> = {
  'GET /api/me': 'the caller',
  'PATCH /api/me': 'the caller’s own profile',
  'GET /api/auth/sessions': 'the caller’s sessions',
  'GET /api/me/mfa': 'the caller’s second factor',
  'DELETE /api/me/mfa': 'the caller’s second factor',
  'POST /api/me/mfa/totp': 'the caller’s second factor',
  'POST /api/me/mfa/totp/confirm': 'the caller’s second factor',
  'POST /api/me/mfa/recovery-codes': 'the caller’s second factor',
  'GET /api/me/tokens': 'the caller’s tokens',
  'POST /api/ws-tickets': 'a ticket with the caller’s rights, checked again where it is used',
  'GET /api/workspaces': 'the caller’s workspaces',
  'POST /api/workspaces': 'a new workspace the caller owns',
  'POST /api/invites/accept': 'the mailed invitation token is the credential',
  'GET /api/auth/device/{user_code}': 'the user code the caller was shown is the credential',
  'POST /api/auth/device/{user_code}/deny': 'the user code the caller was shown is the credential',
  'DELETE /api/auth/token': 'the caller’s own token revokes itself',
};

interface Schema {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  oneOf?: Schema[];
  format?: string;
  pattern?: string;
  example?: unknown;
  minimum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
}

interface Operation {
  responses: Record<string, unknown>;
  requestBody?: { content: Record<string, { schema: Schema }> };
}

interface OpenApi {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

/** What a path parameter names, by the segment before it: a real resource of workspace A. */
function resourceIds(a: Awaited<ReturnType<typeof seedWorkspaceA>>): Record<string, string> {
  return {
    'workspaces/{id}': a.team.workspace.id,
    'members/{userId}': a.team.developer.id,
    'invites/{inviteId}': a.inviteId,
    'runner-registration-tokens/{tokenId}': a.registrationTokenId,
    'runners/{id}': a.runnerId,
    'projects/{id}': a.projectId,
    'environments/{id}': a.environmentId,
    'environments/{environment}': 'production',
    'variables/{name}': 'API_KEY',
    'builds/{id}': a.buildId,
    'deployments/{id}': a.deploymentId,
    'domains/{domain_id}': a.domainId,
    'tokens/{id}': a.apiTokenId,
    'sessions/{id}': a.team.owner.session_id,
    'device/{user_code}': a.userCode,
    'blobs/{hash}': 'a'.repeat(64),
    'notification-targets/{target_id}': a.targetId,
    'deliveries/{delivery_id}': a.deliveryId,
  };
}

/**
 * Bodies not sampled from the schema: those naming a resource point at workspace A's, so only the
 * gate can refuse them; the others pass checks the schema cannot express.
 */
function bodies(a: Awaited<ReturnType<typeof seedWorkspaceA>>): Record<string, unknown> {
  return {
    'POST /api/me/tokens': { name: 'ci', workspace_id: a.team.workspace.id, scope: 'read' },
    'POST /api/workspaces/{id}/transfer': { user_id: a.team.developer.id },
    'POST /api/environments/{id}/rollback': { deployment_id: a.deploymentId },
    'DELETE /api/me/mfa': { code: '000000' },
    'PUT /api/projects/{id}/git-reporting': { kind: 'token', token: 'forge-token' },
  };
}

async function seedWorkspaceA() {
  const team = await seedTeam();
  const owner = as(team.owner);
  const created = await owner.post<{ id: string }>(
    `/api/workspaces/${team.workspace.id}/projects`,
    {
      name: 'Site',
      slug: `site-${crypto.randomUUID().slice(0, 8)}`,
      git_provider: 'github',
      repo_url: `https://github.com/acme/site-${crypto.randomUUID().slice(0, 8)}`,
    },
  );
  expect(created.status, created.text).toBe(201);
  const projectId = created.body.id;
  const listed = await owner.get<{ environments: { id: string; name: string }[] }>(
    `/api/projects/${projectId}/environments`,
  );
  const environmentId = listed.body.environments.find((e) => e.name === 'production')!.id;
  const variable = await owner.put(
    `/api/projects/${projectId}/environments/production/variables/API_KEY`,
    { value: 'value' },
  );
  expect(variable.status, variable.text).toBe(200);
  const [build] = await db
    .insert(builds)
    .values({
      projectId,
      number: 1,
      commitSha: 'c'.repeat(40),
      trigger: 'manual',
      status: 'succeeded',
    })
    .returning();
  const [deployment] = await db
    .insert(deployments)
    .values({
      projectId,
      buildId: build!.id,
      environmentId,
      stage: 'production',
      platform: 'edge',
      status: 'live',
    })
    .returning();
  const [domain] = await db
    .insert(domains)
    .values({ projectId, hostname: `www.${crypto.randomUUID().slice(0, 8)}.example.com` })
    .returning();
  const invite = await owner.post<{ id: string }>(`/api/workspaces/${team.workspace.id}/invites`, {
    email: `invitee-${crypto.randomUUID().slice(0, 8)}@example.com`,
  });
  expect(invite.status, invite.text).toBe(201);
  const token = await owner.post<{ id: string }>('/api/me/tokens', {
    name: 'ci',
    workspace_id: team.workspace.id,
    scope: 'read',
  });
  expect(token.status, token.text).toBe(201);
  const target = await owner.post<{ target: { id: string } }>(
    `/api/projects/${projectId}/notification-targets`,
    {
      kind: 'webhook',
      name: 'Ops',
      url: 'https://ops.example.com/hooks',
      events: ['build.failed'],
    },
  );
  expect(target.status, target.text).toBe(201);
  const [delivery] = await db
    .insert(notificationDeliveries)
    .values({
      targetId: target.body.target.id,
      projectId,
      eventType: 'test',
      eventId: crypto.randomUUID(),
      payload: {} as never,
    })
    .returning();
  const device = await as().post<{ user_code: string }>('/api/auth/device/code', {});
  expect(device.status, device.text).toBe(200);
  const [runner, registration] = await Promise.all([
    registerRunner(team.owner.access_token, team.workspace.id),
    mintRegistrationToken(team.owner.access_token, team.workspace.id),
  ]);
  return {
    team,
    projectId,
    environmentId,
    buildId: build!.id,
    deploymentId: deployment!.id,
    domainId: domain!.id,
    inviteId: invite.body.id,
    apiTokenId: token.body.id,
    runnerId: runner.runner_id,
    registrationTokenId: registration.id,
    userCode: device.body.user_code,
    targetId: target.body.target.id,
    deliveryId: delivery!.id,
  };
}

/** A value the schema accepts; strings under a pattern take the first plain candidate it allows. */
function sample(schema: Schema, doc: OpenApi): unknown {
  if (schema.$ref) return sample(doc.components.schemas[schema.$ref.split('/').at(-1)!]!, doc);
  if (schema.oneOf) return sample(schema.oneOf[0]!, doc);
  if (schema.example !== undefined) return schema.example;
  if (schema.enum) return schema.enum[0];
  const type = [schema.type].flat().find((t) => t !== 'null');
  switch (type) {
    case 'object':
      return Object.fromEntries(
        (schema.required ?? []).map((name) => [name, sample(schema.properties![name]!, doc)]),
      );
    case 'array':
      return Array.from({ length: schema.minItems ?? 0 }, () => sample(schema.items!, doc));
    case 'integer':
    case 'number':
      return schema.exclusiveMinimum !== undefined
        ? schema.exclusiveMinimum + 1
        : (schema.minimum ?? 1);
    case 'boolean':
      return false;
    default:
      return sampleString(schema);
  }
}

function sampleString(schema: Schema): string {
  switch (schema.format) {
    case 'uuid':
      return crypto.randomUUID();
    case 'email':
      return `someone-${crypto.randomUUID().slice(0, 8)}@example.com`;
    case 'uri':
      return 'https://example.com/';
    case 'date-time':
      return new Date().toISOString();
  }
  const min = schema.minLength ?? 1;
  const max = schema.maxLength ?? Number.POSITIVE_INFINITY;
  const lengths = [min, 6, 40, 64].filter((n) => n >= min && n <= max);
  const candidates = ['main', ...lengths.flatMap((n) => ['a'.repeat(n), '0'.repeat(n)])];
  const pattern = schema.pattern === undefined ? undefined : new RegExp(schema.pattern);
  const found = candidates.find(
    (c) => c.length >= min && c.length <= max && (pattern?.test(c) ?? true),
  );
  if (found === undefined) throw new Error(`No sample string for ${JSON.stringify(schema)}`);
  return found;
}

/** A multipart body of one empty file part (the upload batches name parts by a hash). */
function sampleForm(): FormData {
  const form = new FormData();
  form.append('0'.repeat(64), new Blob([]), 'blob');
  return form;
}

interface Call {
  key: string;
  method: string;
  path: string;
  body?: unknown;
  headers: Record<string, string>;
  /** A WebSocket endpoint: it refuses a plain request before it looks at the caller. */
  socket: boolean;
}

/** Each described operation that is not public, with real ids in its path and a valid body. */
function gatedCalls(doc: OpenApi, ids: Record<string, string>, bodies: Record<string, unknown>) {
  return Object.entries(doc.paths).flatMap(([template, operations]) =>
    Object.entries(operations).flatMap(([method, operation]): Call[] => {
      const key = `${method.toUpperCase()} ${template}`;
      if (key in PUBLIC) return [];
      const segments = template.split('/');
      const path = segments
        .map((segment, i) => {
          const name = /^\{(\w+)\}$/.exec(segment)?.[1];
          if (!name) return segment;
          const id = ids[`${segments[i - 1]}/${segment}`];
          if (id === undefined)
            throw new Error(`${key}: no seeded resource for ${segment}; add one`);
          return encodeURIComponent(id);
        })
        .join('/');
      const [contentType, media] = Object.entries(operation.requestBody?.content ?? {})[0] ?? [];
      // A form is sent as one: fetch writes its content type, boundary included.
      const form = contentType === 'multipart/form-data';
      const body =
        key in bodies ? bodies[key] : form ? sampleForm() : media && sample(media.schema, doc);
      const headers: Record<string, string> =
        contentType && contentType !== 'application/json' && !form
          ? { 'content-type': contentType }
          : {};
      const socket = '101' in operation.responses;
      return [{ key, method: method.toUpperCase(), path, body, headers, socket }];
    }),
  );
}

async function inBatches<T, R>(items: T[], size: number, run: (item: T) => Promise<R>) {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += size) {
    results.push(...(await Promise.all(items.slice(i, i + size).map(run))));
  }
  return results;
}

function isErrorEnvelope(body: unknown): body is ErrorEnvelope {
  const envelope = body as ErrorEnvelope | undefined;
  return (
    typeof envelope?.error?.code === 'string' &&
    typeof envelope.error.message === 'string' &&
    typeof envelope.request_id === 'string'
  );
}

/** Browsers' sockets present a ticket minted with the caller's credential, not the credential. */
async function socketHeaders(caller: Caller | undefined): Promise<Record<string, string>> {
  if (!caller) return { upgrade: 'websocket' };
  const minted = await as(caller).post<{ ticket: string }>('/api/ws-tickets', {});
  expect(minted.status, minted.text).toBe(201);
  return {
    upgrade: 'websocket',
    'sec-websocket-protocol': `sparki.v1, ticket.${minted.body.ticket}`,
  };
}

/** Each call that was let through, or refused otherwise than `expected` allows. */
async function unrefused(
  caller: Caller | undefined,
  selected: Call[],
  expected: number[],
): Promise<string[]> {
  const outcomes = await inBatches(selected, 8, async (call) => {
    const headers = { ...call.headers, ...(call.socket && (await socketHeaders(caller))) };
    const response = await as(caller).send(call.method, call.path, call.body, headers);
    return { call, response };
  });
  return outcomes
    .filter(
      ({ response }) => !expected.includes(response.status) || !isErrorEnvelope(response.body),
    )
    .map(({ call, response }) => describeOutcome(call, response));
}

function describeOutcome(call: Call, response: ApiResponse<unknown>) {
  return `${call.key} → ${response.status} ${response.text.slice(0, 200)}`;
}

describe('authorization of every described operation', () => {
  let doc: OpenApi;
  let gated: Call[];
  let team: Team;

  beforeAll(async () => {
    const a = await seedWorkspaceA();
    team = a.team;
    doc = await (await fetchWorker('/api/openapi.json')).json<OpenApi>();
    gated = gatedCalls(doc, resourceIds(a), bodies(a));
  });

  it('names only operations the API describes as public or account-level', () => {
    const described = new Set(
      Object.entries(doc.paths).flatMap(([template, operations]) =>
        Object.keys(operations).map((method) => `${method.toUpperCase()} ${template}`),
      ),
    );
    const stale = [...Object.keys(PUBLIC), ...Object.keys(OWN_ACCOUNT)].filter(
      (key) => !described.has(key),
    );
    expect(stale).toEqual([]);
    expect(gated.length).toBeGreaterThan(50);
  });

  it('refuses anonymous callers with 401 everywhere but the public operations', async () => {
    expect(await unrefused(undefined, gated, [401])).toEqual([]);
  });

  it('lets the owner read what the others were refused, so their 404s come from the gate', async () => {
    const reads = gated.filter((call) => call.method === 'GET' && !call.socket);
    const outcomes = await inBatches(reads, 8, async (call) => ({
      call,
      response: await as(team.owner).get(call.path),
    }));
    const failed = outcomes.filter(({ response }) => response.status !== 200);
    expect(failed.map(({ call, response }) => describeOutcome(call, response))).toEqual([]);
  });

  it('answers a member of another workspace 403 or 404 on workspace resources', async () => {
    const scoped = gated.filter((call) => !(call.key in OWN_ACCOUNT));
    expect(await unrefused(team.outsider, scoped, [403, 404])).toEqual([]);
  });
});
