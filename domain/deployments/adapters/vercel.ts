// Vercel REST API (https://api.vercel.com, `Authorization: Bearer`, `teamId` query parameter,
// errors `{ error: { code, message } }`, 429 with X-RateLimit-Reset).
// Upload files: https://vercel.com/docs/rest-api/deployments/upload-deployment-files
// Create deployment: https://vercel.com/docs/rest-api/deployments/create-a-new-deployment
// Get deployment: https://vercel.com/docs/rest-api/deployments/get-a-deployment-by-id-or-url
// Promote: https://vercel.com/docs/rest-api/projects/point-production-traffic-to-a-given-deployment
// Rollback: https://vercel.com/docs/rest-api/projects/point-production-traffic-to-a-previous-production-deployment-by-id
// Errors: https://vercel.com/docs/rest-api/errors
import { z } from 'zod';
import { toHex } from '../../../core/digest';
import { type Context, defineAdapter, readArtifactFile } from './adapter';
import { call, type ErrorReader, jsonRequest, ProviderError, readJson } from './http';
import type { DeployRequest, ProviderRef, ProviderState } from './types';

const configSchema = z.object({
  projectId: z.string().min(1),
  /** Used as the deployment `name` (it appears in preview URLs). */
  projectName: z
    .string()
    .regex(
      /^[a-z0-9][a-z0-9._-]{0,99}$/,
      'a Vercel project name is lowercase, up to 100 characters',
    ),
  teamId: z.string().min(1).optional(),
  apiBase: z.url().default('https://api.vercel.com'),
});
type Config = z.infer<typeof configSchema>;

const credentialsSchema = z.object({
  token: z.string().min(1),
});
type Credentials = z.infer<typeof credentialsSchema>;
type Ctx = Context<Config, Credentials>;

interface VercelDeployment {
  id: string;
  url: string;
  readyState: string;
  target?: string | null;
}

const readError: ErrorReader = (body) => {
  const { error } = body as { error?: { code?: unknown; message?: unknown } };
  if (!error || typeof error.message !== 'string') return undefined;
  return {
    message: error.message,
    ...(typeof error.code === 'string' ? { code: error.code } : {}),
  };
};

function url(ctx: Ctx, path: string, query: Record<string, string> = {}): string {
  const params = new URLSearchParams(query);
  if (ctx.config.teamId) params.set('teamId', ctx.config.teamId);
  const search = params.toString();
  return `${ctx.config.apiBase}${path}${search ? `?${search}` : ''}`;
}

function auth(ctx: Ctx) {
  return { authorization: `Bearer ${ctx.credentials.token}` };
}

const options = (ctx: Ctx) => ({ provider: 'vercel' as const, fetch: ctx.fetch, readError });

async function sha1(bytes: Uint8Array): Promise<string> {
  return toHex(await crypto.subtle.digest('SHA-1', bytes));
}

/** Vercel addresses file contents by SHA-1; only the ones it reports missing are uploaded. */
async function upload(ctx: Ctx, missing: string[], contents: Map<string, Uint8Array>) {
  for (const digest of missing) {
    const bytes = contents.get(digest);
    if (!bytes) continue;
    await call(
      options(ctx),
      new Request(url(ctx, '/v2/files'), {
        method: 'POST',
        headers: {
          ...auth(ctx),
          'content-type': 'application/octet-stream',
          'x-vercel-digest': digest,
        },
        body: bytes,
      }),
    );
  }
}

function missingFiles(error: unknown): string[] | undefined {
  if (!(error instanceof ProviderError) || error.code !== 'missing_files') return undefined;
  const missing = (error.body as { error?: { missing?: unknown } } | undefined)?.error?.missing;
  return Array.isArray(missing) ? missing.filter((item) => typeof item === 'string') : undefined;
}

function toRef(deployment: VercelDeployment): ProviderRef {
  return { id: deployment.id, url: `https://${deployment.url}` };
}

async function create(ctx: Ctx, request: DeployRequest): Promise<VercelDeployment> {
  const { artifact } = request;
  const contents = new Map<string, Uint8Array>();
  const files = [];
  for (const file of artifact.files ?? []) {
    const bytes = await readArtifactFile('vercel', artifact, file.path);
    const sha = await sha1(bytes);
    contents.set(sha, bytes);
    files.push({ file: file.path, sha, size: bytes.byteLength });
  }
  // Blue-green builds a preview first; promote then moves production onto it.
  const production = request.stage === 'production' && request.strategy === 'all_at_once';
  const body = {
    name: ctx.config.projectName,
    project: ctx.config.projectId,
    files,
    ...(production ? { target: 'production' } : {}),
    meta: { sparkiDeploymentId: request.deploymentId, sparkiBuildId: artifact.buildId },
  };
  const send = async () =>
    readJson<VercelDeployment>(
      'vercel',
      await call(options(ctx), jsonRequest(url(ctx, '/v13/deployments'), 'POST', auth(ctx), body)),
    );
  try {
    return await send();
  } catch (error) {
    const missing = missingFiles(error);
    if (!missing) throw error;
    await upload(ctx, missing, contents);
    return send();
  }
}

const STATES: Record<string, ProviderState> = {
  ERROR: 'failed',
  CANCELED: 'canceled',
};

export const vercel = defineAdapter<Config, Credentials>({
  id: 'vercel',
  name: 'Vercel',
  docsUrl: 'https://vercel.com/docs/rest-api/deployments/create-a-new-deployment',
  capabilities: {
    strategies: ['all_at_once', 'blue_green'],
    promote: 'native',
    rollback: 'native',
    traffic: 'strategy',
    image: 'unused',
  },
  configSchema,
  credentialsSchema,
  targetKey: (config) =>
    `${config.apiBase}/projects/${config.projectId}${config.teamId ? `?teamId=${config.teamId}` : ''}`,
  checkArtifact(artifact) {
    return artifact.files?.length
      ? []
      : [{ field: 'artifact.files', message: 'Vercel deploys files; the build produced none' }];
  },
  deploy: async (ctx, request) => toRef(await create(ctx, request)),
  async status(ctx, ref) {
    const deployment = await readJson<VercelDeployment>(
      'vercel',
      await call(
        options(ctx),
        jsonRequest(url(ctx, `/v13/deployments/${encodeURIComponent(ref.id)}`), 'GET', auth(ctx)),
      ),
    );
    const ready: ProviderState = deployment.target === 'production' ? 'live' : 'ready';
    return {
      state:
        deployment.readyState === 'READY'
          ? ready
          : (STATES[deployment.readyState] ?? 'in_progress'),
      url: `https://${deployment.url}`,
      detail: deployment.readyState,
    };
  },
  async promote(ctx, ref) {
    await call(
      options(ctx),
      jsonRequest(
        url(
          ctx,
          `/v10/projects/${encodeURIComponent(ctx.config.projectId)}/promote/${encodeURIComponent(ref.id)}`,
        ),
        'POST',
        auth(ctx),
      ),
    );
  },
  async rollback(ctx, to) {
    await call(
      options(ctx),
      jsonRequest(
        url(
          ctx,
          `/v1/projects/${encodeURIComponent(ctx.config.projectId)}/rollback/${encodeURIComponent(to.id)}`,
          {
            description: 'Sparki rollback',
          },
        ),
        'POST',
        auth(ctx),
      ),
    );
    return to;
  },
});
