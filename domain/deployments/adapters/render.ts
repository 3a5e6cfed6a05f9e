// Render REST API (Bearer API key `rnd_…`; errors `{ id, message }`).
// Trigger deploy: https://api-docs.render.com/reference/create-deploy
// Retrieve deploy: https://api-docs.render.com/reference/retrieve-deploy
// Roll back: https://api-docs.render.com/reference/rollback-deploy and https://render.com/docs/rollbacks
// Rate limits (deploys 10 / minute / service, 429, Ratelimit-* headers): https://api-docs.render.com/reference/rate-limiting
import { z } from 'zod';
import { type Context, defineAdapter } from './adapter';
import { call, type ErrorReader, jsonRequest, readJson } from './http';
import type { ProviderRef, ProviderState } from './types';

const configSchema = z.object({
  serviceId: z.string().regex(/^srv-[a-z0-9]+$/, 'a Render service id looks like srv-…'),
  /** The service's public URL, used for health checks. */
  publicUrl: z.url().optional(),
  apiBase: z.url().default('https://api.render.com/v1'),
});
type Config = z.infer<typeof configSchema>;

const credentialsSchema = z.object({
  apiKey: z.string().startsWith('rnd_', 'Render API keys start with rnd_'),
});
type Credentials = z.infer<typeof credentialsSchema>;
type Ctx = Context<Config, Credentials>;

interface RenderDeploy {
  id: string;
  status: string;
}

const readError: ErrorReader = (body) => {
  const { message, id } = body as { message?: unknown; id?: unknown };
  return typeof message === 'string'
    ? { message, ...(typeof id === 'string' ? { code: id } : {}) }
    : undefined;
};

const STATES: Record<string, ProviderState> = {
  live: 'live',
  deactivated: 'superseded',
  build_failed: 'failed',
  update_failed: 'failed',
  pre_deploy_failed: 'failed',
  canceled: 'canceled',
};

async function send<T>(ctx: Ctx, method: string, path: string, body?: unknown): Promise<T> {
  const response = await call(
    { provider: 'render', fetch: ctx.fetch, readError },
    jsonRequest(
      `${ctx.config.apiBase}/services/${ctx.config.serviceId}${path}`,
      method,
      { authorization: `Bearer ${ctx.credentials.apiKey}`, accept: 'application/json' },
      body,
    ),
  );
  return readJson<T>('render', response);
}

function ref(ctx: Ctx, deploy: RenderDeploy): ProviderRef {
  return { id: deploy.id, ...(ctx.config.publicUrl ? { url: ctx.config.publicUrl } : {}) };
}

export const render = defineAdapter<Config, Credentials>({
  id: 'render',
  name: 'Render',
  docsUrl: 'https://api-docs.render.com/reference/create-deploy',
  capabilities: {
    strategies: ['all_at_once'],
    promote: 'none',
    rollback: 'native',
    traffic: 'strategy',
    image: 'optional',
  },
  configSchema,
  credentialsSchema,
  targetKey: (config) => `${config.apiBase}/services/${config.serviceId}`,
  checkArtifact(artifact) {
    if (artifact.image || artifact.commitSha) return [];
    return [
      {
        field: 'artifact',
        message: 'Render deploys an image or a commit; the build has neither',
      },
    ];
  },
  async deploy(ctx, request) {
    const { image, commitSha } = request.artifact;
    const deploy = await send<RenderDeploy>(ctx, 'POST', '/deploys', {
      clearCache: 'do_not_clear',
      ...(image ? { imageUrl: image } : { commitId: commitSha }),
    });
    return ref(ctx, deploy);
  },
  async status(ctx, target) {
    const deploy = await send<RenderDeploy>(
      ctx,
      'GET',
      `/deploys/${encodeURIComponent(target.id)}`,
    );
    return {
      state: STATES[deploy.status] ?? 'in_progress',
      url: ctx.config.publicUrl,
      detail: deploy.status,
    };
  },
  async rollback(ctx, to) {
    // Render starts a new deploy from the target's build artifact, without rebuilding.
    const deploy = await send<RenderDeploy>(ctx, 'POST', '/rollback', { deployId: to.id });
    return ref(ctx, deploy);
  },
});
