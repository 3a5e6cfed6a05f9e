// Railway public GraphQL API (POST https://backboard.railway.com/graphql/v2; account and workspace
// tokens as `Authorization: Bearer`, project tokens as `Project-Access-Token`). GraphQL errors come
// back as `200 { errors: [{ message, extensions }] }` and are errors here too.
// Public API and tokens: https://docs.railway.com/reference/public-api
// Managing deployments: https://docs.railway.com/integrations/api/manage-deployments
// Rollback, redeploy: https://docs.railway.com/deployments/deployment-actions
// Rate limits (per plan, 429 + Retry-After, X-RateLimit-*): https://docs.railway.com/reference/public-api
import { z } from 'zod';
import { type Context, defineAdapter } from './adapter';
import { call, type ErrorReader, jsonRequest, ProviderError, readJson } from './http';
import type { ProviderState } from './types';

const id = (what: string) => z.uuid(`a Railway ${what} id is a UUID`);

const configSchema = z.object({
  serviceId: id('service'),
  environmentId: id('environment'),
  /** The service's public URL, used for health checks when Railway reports none. */
  publicUrl: z.url().optional(),
  apiUrl: z.url().default('https://backboard.railway.com/graphql/v2'),
});
type Config = z.infer<typeof configSchema>;

const credentialsSchema = z.object({
  token: z.string().min(1),
  /** Project tokens are scoped to one environment and use their own header. */
  tokenType: z.enum(['account', 'workspace', 'project']).default('workspace'),
});
type Credentials = z.infer<typeof credentialsSchema>;
type Ctx = Context<Config, Credentials>;

interface GraphQLError {
  message: string;
  extensions?: { code?: string };
}

const readError: ErrorReader = (body) => {
  const { errors, message } = body as { errors?: GraphQLError[]; message?: unknown };
  if (Array.isArray(errors) && errors.length > 0) {
    return {
      message: errors.map((error) => error.message).join('; '),
      ...(errors[0]?.extensions?.code ? { code: errors[0].extensions.code } : {}),
    };
  }
  return typeof message === 'string' ? { message } : undefined;
};

async function graphql<T>(ctx: Ctx, query: string, variables: Record<string, unknown>): Promise<T> {
  const auth: Record<string, string> =
    ctx.credentials.tokenType === 'project'
      ? { 'project-access-token': ctx.credentials.token }
      : { authorization: `Bearer ${ctx.credentials.token}` };
  const response = await call(
    { provider: 'railway', fetch: ctx.fetch, readError },
    jsonRequest(ctx.config.apiUrl, 'POST', auth, { query, variables }),
  );
  const body = await readJson<{ data?: T | null; errors?: GraphQLError[] }>('railway', response);
  if (body.errors?.length || !body.data) {
    const read = readError(body);
    const message = read?.message ?? 'no data';
    throw new ProviderError('railway', response.status, `railway: ${message}`, {
      code: read?.code,
      body,
      kind: /not authori[sz]ed/i.test(message) ? 'unauthorized' : 'invalid',
    });
  }
  return body.data;
}

const SET_IMAGE = `mutation setImage($serviceId: String!, $environmentId: String!, $input: ServiceInstanceUpdateInput!) {
  serviceInstanceUpdate(serviceId: $serviceId, environmentId: $environmentId, input: $input)
}`;

const DEPLOY = `mutation deploy($serviceId: String!, $environmentId: String!, $commitSha: String) {
  serviceInstanceDeployV2(serviceId: $serviceId, environmentId: $environmentId, commitSha: $commitSha)
}`;

const DEPLOYMENT = `query deployment($id: String!) {
  deployment(id: $id) { id status url staticUrl }
}`;

const ROLLBACK = `mutation rollback($id: String!) {
  deploymentRollback(id: $id)
}`;

const STATES: Record<string, ProviderState> = {
  SUCCESS: 'live',
  SLEEPING: 'live',
  FAILED: 'failed',
  CRASHED: 'failed',
  REMOVED: 'superseded',
  REMOVING: 'superseded',
  SKIPPED: 'canceled',
};

export const railway = defineAdapter<Config, Credentials>({
  id: 'railway',
  name: 'Railway',
  docsUrl: 'https://docs.railway.com/reference/public-api',
  capabilities: {
    strategies: ['all_at_once'],
    promote: 'none',
    rollback: 'native',
    traffic: 'strategy',
    image: 'optional',
  },
  configSchema,
  credentialsSchema,
  targetKey: (config) => `${config.apiUrl}#${config.serviceId}/${config.environmentId}`,
  checkArtifact(artifact) {
    if (artifact.image || artifact.commitSha) return [];
    return [
      { field: 'artifact', message: 'Railway deploys an image or a commit; the build has neither' },
    ];
  },
  async deploy(ctx, request) {
    const { serviceId, environmentId } = ctx.config;
    const { image, commitSha } = request.artifact;
    if (image) {
      await graphql(ctx, SET_IMAGE, { serviceId, environmentId, input: { source: { image } } });
    }
    const data = await graphql<{ serviceInstanceDeployV2: string }>(ctx, DEPLOY, {
      serviceId,
      environmentId,
      commitSha: image ? null : commitSha,
    });
    return {
      id: data.serviceInstanceDeployV2,
      ...(ctx.config.publicUrl ? { url: ctx.config.publicUrl } : {}),
    };
  },
  async status(ctx, ref) {
    const { deployment } = await graphql<{
      deployment: { status: string; url?: string | null; staticUrl?: string | null };
    }>(ctx, DEPLOYMENT, { id: ref.id });
    const host = deployment.staticUrl ?? deployment.url;
    return {
      state: STATES[deployment.status] ?? 'in_progress',
      url:
        ctx.config.publicUrl ?? (host ? `https://${host.replace(/^https?:\/\//, '')}` : undefined),
      detail: deployment.status,
    };
  },
  async rollback(ctx, to) {
    // Restores the earlier deployment's image and variables; Railway answers with a boolean.
    await graphql<{ deploymentRollback: boolean }>(ctx, ROLLBACK, { id: to.id });
    return to;
  },
});
