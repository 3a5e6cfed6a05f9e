import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ProviderError, RateLimitedError } from '../../../domain/deployments/adapters';
import { railway } from '../../../domain/deployments/adapters/railway';
import {
  type FakeProvider,
  HTML_BAD_GATEWAY,
  type Received,
  type Reply,
  startFakeProvider,
} from './fake-provider';

const SERVICE = randomUUID();
const ENVIRONMENT = randomUUID();
const WORKSPACE_TOKEN = 'workspace-token-1';
const PROJECT_TOKEN = 'project-token-1';

interface Deployment {
  id: string;
  status: string;
  staticUrl: string;
  image?: string;
  commitSha?: string;
}

let provider: FakeProvider;
let deployments: Deployment[];
let serviceImage: string | undefined;
let outage: Reply | undefined;

/** GraphQL answers errors with 200 and an `errors` array. */
const graphqlError = (message: string, code: string): Reply => ({
  status: 200,
  json: { data: null, errors: [{ message, extensions: { code } }] },
});

function operation(request: Received) {
  const { query, variables } = request.json as {
    query: string;
    variables: Record<string, unknown>;
  };
  const field = /\{\s*(\w+)/.exec(query)?.[1];
  return { query, variables, field };
}

beforeAll(async () => {
  provider = await startFakeProvider((request) => {
    if (outage) return outage;
    if (request.method !== 'POST' || request.path !== '/graphql/v2') {
      return { status: 404, text: 'Not Found' };
    }
    const authorized =
      request.headers.authorization === `Bearer ${WORKSPACE_TOKEN}` ||
      request.headers['project-access-token'] === PROJECT_TOKEN;
    if (!authorized) return graphqlError('Not Authorized', 'UNAUTHENTICATED');
    const { query, variables, field } = operation(request);
    const scoped = variables.serviceId === SERVICE && variables.environmentId === ENVIRONMENT;
    switch (field) {
      case 'serviceInstanceUpdate': {
        if (!query.includes('$input: ServiceInstanceUpdateInput!')) {
          return graphqlError('Unknown type for $input', 'GRAPHQL_VALIDATION_FAILED');
        }
        if (!scoped) return graphqlError('Service instance not found', 'NOT_FOUND');
        serviceImage = (variables.input as { source: { image: string } }).source.image;
        return { status: 200, json: { data: { serviceInstanceUpdate: true } } };
      }
      case 'serviceInstanceDeployV2': {
        if (!scoped) return graphqlError('Service instance not found', 'NOT_FOUND');
        const deployment: Deployment = {
          id: randomUUID(),
          status: 'BUILDING',
          staticUrl: 'shop-production.up.railway.app',
          ...(variables.commitSha
            ? { commitSha: String(variables.commitSha) }
            : { image: serviceImage }),
        };
        deployments.push(deployment);
        return { status: 200, json: { data: { serviceInstanceDeployV2: deployment.id } } };
      }
      case 'deployment': {
        const found = deployments.find((candidate) => candidate.id === variables.id);
        if (!found) return graphqlError('Deployment not found', 'NOT_FOUND');
        const { id, status, staticUrl } = found;
        return {
          status: 200,
          json: { data: { deployment: { id, status, url: null, staticUrl } } },
        };
      }
      case 'deploymentRollback': {
        const found = deployments.find((candidate) => candidate.id === variables.id);
        if (!found) return graphqlError('Deployment not found', 'NOT_FOUND');
        for (const deployment of deployments)
          if (deployment.status === 'SUCCESS') deployment.status = 'REMOVED';
        found.status = 'SUCCESS';
        return { status: 200, json: { data: { deploymentRollback: true } } };
      }
      default:
        return graphqlError(`Cannot query field "${field}"`, 'GRAPHQL_VALIDATION_FAILED');
    }
  });
});

afterAll(() => provider.close());

beforeEach(() => {
  deployments = [];
  serviceImage = undefined;
  outage = undefined;
  provider.received.length = 0;
});

const target = (credentials: unknown = { token: WORKSPACE_TOKEN, tokenType: 'workspace' }) => ({
  config: { serviceId: SERVICE, environmentId: ENVIRONMENT, apiUrl: `${provider.base}/graphql/v2` },
  credentials,
  fetch: provider.fetch,
});
const request = (artifact: { image?: string; commitSha?: string }) => ({
  deploymentId: 'dep_1',
  environment: 'production',
  stage: 'production' as const,
  strategy: 'all_at_once' as const,
  artifact: { buildId: 'bld_1', ...artifact },
});

describe('Railway adapter', () => {
  it('sets the image on the service instance, deploys it and maps deployment statuses', async () => {
    const ref = await railway.deploy(target(), request({ image: 'ghcr.io/acme/shop:1.2.0' }));

    expect(provider.received.map((entry) => operation(entry).field)).toEqual([
      'serviceInstanceUpdate',
      'serviceInstanceDeployV2',
    ]);
    const [update, deploy] = provider.received;
    expect(update!.headers.authorization).toBe(`Bearer ${WORKSPACE_TOKEN}`);
    expect(update!.headers['content-type']).toBe('application/json');
    expect(operation(update!).variables).toEqual({
      serviceId: SERVICE,
      environmentId: ENVIRONMENT,
      input: { source: { image: 'ghcr.io/acme/shop:1.2.0' } },
    });
    expect(operation(deploy!).variables).toEqual({
      serviceId: SERVICE,
      environmentId: ENVIRONMENT,
      commitSha: null,
    });
    expect(ref.id).toBe(deployments[0]!.id);
    expect(deployments[0]!.image).toBe('ghcr.io/acme/shop:1.2.0');

    for (const [status, state] of [
      ['BUILDING', 'in_progress'],
      ['DEPLOYING', 'in_progress'],
      ['SUCCESS', 'live'],
      ['CRASHED', 'failed'],
      ['REMOVED', 'superseded'],
    ] as const) {
      deployments[0]!.status = status;
      expect(await railway.status(target(), ref)).toEqual({
        state,
        url: 'https://shop-production.up.railway.app',
        detail: status,
      });
    }
  });

  it('deploys a commit with a project token and rolls back with deploymentRollback', async () => {
    const projectTarget = target({ token: PROJECT_TOKEN, tokenType: 'project' });
    const first = await railway.deploy(projectTarget, request({ commitSha: 'a1b2c3d' }));
    expect(provider.received[0]!.headers['project-access-token']).toBe(PROJECT_TOKEN);
    expect(provider.received[0]!.headers.authorization).toBeUndefined();
    expect(operation(provider.received[0]!).variables).toMatchObject({ commitSha: 'a1b2c3d' });
    deployments[0]!.status = 'SUCCESS';
    const second = await railway.deploy(projectTarget, request({ commitSha: 'e4f5a6b' }));

    expect(await railway.rollback(projectTarget, first)).toEqual(first);
    expect(operation(provider.received.at(-1)!)).toMatchObject({
      field: 'deploymentRollback',
      variables: { id: first.id },
    });
    expect(await railway.status(projectTarget, first)).toMatchObject({ state: 'live' });
    expect(await railway.status(projectTarget, second)).toMatchObject({ state: 'in_progress' });
  });

  it('treats GraphQL errors inside a 200 as failures', async () => {
    const denied = await railway
      .deploy(target({ token: 'stolen', tokenType: 'workspace' }), request({ commitSha: 'a' }))
      .catch((caught: unknown) => caught);
    expect(denied).toBeInstanceOf(ProviderError);
    expect(denied).toMatchObject({
      status: 200,
      kind: 'unauthorized',
      code: 'UNAUTHENTICATED',
      message: 'railway: Not Authorized',
    });
    await expect(railway.status(target(), { id: randomUUID() })).rejects.toMatchObject({
      kind: 'invalid',
      code: 'NOT_FOUND',
      message: expect.stringContaining('Deployment not found'),
    });
  });

  it('reads Retry-After on a 429 and reports non-JSON failures', async () => {
    outage = {
      status: 429,
      json: { errors: [{ message: 'Rate limit exceeded' }] },
      headers: { 'retry-after': '12', 'x-ratelimit-limit': '1000', 'x-ratelimit-remaining': '0' },
    };
    const limited = await railway.status(target(), { id: 'x' }).catch((caught: unknown) => caught);
    expect(limited).toBeInstanceOf(RateLimitedError);
    expect(limited).toMatchObject({
      retryAfterMs: 12_000,
      message: expect.stringContaining('Rate limit exceeded'),
    });

    outage = HTML_BAD_GATEWAY;
    await expect(railway.status(target(), { id: 'x' })).rejects.toMatchObject({
      status: 502,
      message: expect.stringContaining('non-JSON answer'),
    });
  });

  it('validates ids and the token type', () => {
    expect(
      railway.validate(
        { serviceId: 'shop', environmentId: ENVIRONMENT },
        { token: 'x', tokenType: 'team' },
        { buildId: 'b', image: 'ghcr.io/a/b:1' },
      ),
    ).toEqual([
      {
        field: 'config.serviceId',
        message: expect.stringContaining('a Railway service id is a UUID'),
      },
      {
        field: 'credentials.tokenType',
        message: expect.stringMatching(/^invalid credential tokenType/),
      },
    ]);
  });
});
