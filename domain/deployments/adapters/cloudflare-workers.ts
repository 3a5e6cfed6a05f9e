// Cloudflare Workers through the Cloudflare API v4 (Bearer API token, envelope
// `{ success, errors: [{ code, message }], messages, result }`).
// Script upload: https://developers.cloudflare.com/api/resources/workers/subresources/scripts/methods/update/
// Multipart metadata: https://developers.cloudflare.com/workers/configuration/multipart-upload-metadata/
// Versions: https://developers.cloudflare.com/api/resources/workers/subresources/scripts/subresources/versions/methods/create/
// Deployments: https://developers.cloudflare.com/api/resources/workers/subresources/scripts/subresources/deployments/methods/create
// Gradual deployments: https://developers.cloudflare.com/workers/versions-and-deployments/gradual-deployments/
// Rate limits (1200 / 5 min, 429 + Retry-After): https://developers.cloudflare.com/fundamentals/api/reference/limits/
import { z } from 'zod';
import { AdapterValidationError, type Context, defineAdapter, readArtifactFile } from './adapter';
import { call, type ErrorReader, ProviderError, readJson } from './http';
import type { DeployRequest, Problem, ProviderRef } from './types';

const configSchema = z.object({
  accountId: z.string().regex(/^[0-9a-f]{32}$/, 'a Cloudflare account id is 32 hex characters'),
  scriptName: z
    .string()
    .regex(
      /^[A-Za-z](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?$/,
      'a Worker name starts with a letter, ends with a letter or digit, uses letters, digits, - and _, at most 63 characters',
    ),
  /** The build output file that is the ES module entry point. */
  mainModule: z.string().min(1).default('worker.js'),
  compatibilityDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date like 2026-11-01'),
  compatibilityFlags: z.array(z.string()).default([]),
  /** Passed through as the metadata `bindings`; an upload replaces the Worker's bindings. */
  bindings: z.array(z.record(z.string(), z.unknown())).default([]),
  /** The Worker's public URL (route or workers.dev), used for health checks. */
  publicUrl: z.url().optional(),
  apiBase: z.url().default('https://api.cloudflare.com/client/v4'),
});
type Config = z.infer<typeof configSchema>;

const credentialsSchema = z.object({
  apiToken: z.string().min(20, 'too short for a Cloudflare API token'),
});
type Credentials = z.infer<typeof credentialsSchema>;
type Ctx = Context<Config, Credentials>;

interface Envelope<T> {
  success: boolean;
  errors?: { code: number; message: string }[];
  result: T;
}

interface Deployment {
  id: string;
  versions: { version_id: string; percentage: number }[];
}

const readError: ErrorReader = (body) => {
  const errors = (body as Envelope<unknown>).errors;
  if (!Array.isArray(errors) || errors.length === 0) return undefined;
  return {
    message: errors.map((error) => `${error.code}: ${error.message}`).join('; '),
    code: String(errors[0]?.code),
  };
};

function scriptUrl(config: Config, suffix = ''): string {
  return `${config.apiBase}/accounts/${config.accountId}/workers/scripts/${encodeURIComponent(config.scriptName)}${suffix}`;
}

async function send<T>(ctx: Ctx, url: string, init: RequestInit): Promise<T> {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${ctx.credentials.apiToken}`);
  const response = await call(
    { provider: 'cloudflare_workers', fetch: ctx.fetch, readError },
    new Request(url, { ...init, headers }),
  );
  const body = await readJson<Envelope<T>>('cloudflare_workers', response);
  if (!body.success) {
    const read = readError(body);
    throw new ProviderError(
      'cloudflare_workers',
      response.status,
      `cloudflare_workers: ${read?.message ?? 'success: false'}`,
      { code: read?.code, body },
    );
  }
  return body.result;
}

function moduleType(path: string): string {
  if (/\.(m?js)$/.test(path)) return 'application/javascript+module';
  if (path.endsWith('.wasm')) return 'application/wasm';
  if (path.endsWith('.map')) return 'application/source-map';
  if (/\.(txt|html|css|json)$/.test(path)) return 'text/plain';
  return 'application/octet-stream';
}

/** The multipart body both the script and the version upload take: metadata + one part per module. */
async function uploadForm(ctx: Ctx, request: DeployRequest, annotate: boolean): Promise<FormData> {
  const { artifact } = request;
  const form = new FormData();
  const metadata = {
    main_module: ctx.config.mainModule,
    compatibility_date: ctx.config.compatibilityDate,
    compatibility_flags: ctx.config.compatibilityFlags,
    bindings: ctx.config.bindings,
    ...(annotate
      ? {
          annotations: {
            'workers/message': `Sparki deployment ${request.deploymentId}`,
            'workers/tag': artifact.buildId,
          },
        }
      : {}),
  };
  form.set(
    'metadata',
    new Blob([JSON.stringify(metadata)], { type: 'application/json' }),
    'metadata.json',
  );
  for (const file of artifact.files ?? []) {
    const bytes = await readArtifactFile('cloudflare_workers', artifact, file.path);
    form.set(file.path, new Blob([bytes], { type: moduleType(file.path) }), file.path);
  }
  return form;
}

async function currentDeployment(ctx: Ctx): Promise<Deployment | undefined> {
  const url = scriptUrl(ctx.config, '/deployments');
  const result = await send<{ deployments: Deployment[] }>(ctx, url, { method: 'GET' });
  return result.deployments[0];
}

/** The version carrying most of the traffic: what a canary splits against. */
function stableVersion(deployment: Deployment | undefined): string | undefined {
  return [...(deployment?.versions ?? [])].sort((a, b) => b.percentage - a.percentage)[0]
    ?.version_id;
}

async function createDeployment(
  ctx: Ctx,
  versions: { version_id: string; percentage: number }[],
  message: string,
): Promise<Deployment> {
  return send<Deployment>(ctx, scriptUrl(ctx.config, '/deployments'), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      strategy: 'percentage',
      versions,
      annotations: { 'workers/message': message },
    }),
  });
}

async function uploadVersion(ctx: Ctx, request: DeployRequest): Promise<string> {
  const version = await send<{ id: string }>(ctx, scriptUrl(ctx.config, '/versions'), {
    method: 'POST',
    body: await uploadForm(ctx, request, true),
  });
  return version.id;
}

function withUrl(ctx: Ctx, ref: ProviderRef): ProviderRef {
  return ctx.config.publicUrl ? { ...ref, url: ctx.config.publicUrl } : ref;
}

export const cloudflareWorkers = defineAdapter<Config, Credentials>({
  id: 'cloudflare_workers',
  name: 'Cloudflare Workers',
  docsUrl: 'https://developers.cloudflare.com/api/resources/workers/',
  capabilities: {
    strategies: ['all_at_once', 'blue_green', 'canary'],
    promote: 'native',
    rollback: 'native',
    traffic: 'strategy',
    image: 'unused',
  },
  configSchema,
  credentialsSchema,
  targetKey: (config) => scriptUrl(config),
  checkArtifact(artifact, config) {
    const problems: Problem[] = [];
    if (!artifact.files?.length) {
      problems.push({ field: 'artifact.files', message: 'the build produced no Worker modules' });
    } else if (!artifact.files.some((file) => file.path === config.mainModule)) {
      problems.push({
        field: 'config.mainModule',
        message: `the build output has no ${config.mainModule}`,
      });
    }
    return problems;
  },
  async deploy(ctx, request) {
    if (request.strategy === 'all_at_once') {
      // The script upload creates the Worker if needed and deploys it to all traffic at once.
      await send(ctx, scriptUrl(ctx.config), {
        method: 'PUT',
        body: await uploadForm(ctx, request, false),
      });
      const live = stableVersion(await currentDeployment(ctx));
      if (!live) {
        throw new ProviderError(
          'cloudflare_workers',
          200,
          'cloudflare_workers: upload left no deployment',
        );
      }
      return withUrl(ctx, { id: live });
    }
    const stable = stableVersion(await currentDeployment(ctx));
    if (!stable) {
      throw new AdapterValidationError('cloudflare_workers', [
        {
          field: 'strategy',
          message: `${ctx.config.scriptName} serves no version yet; deploy it all at once first`,
        },
      ]);
    }
    const version = await uploadVersion(ctx, request);
    if (request.strategy === 'canary') {
      const percent = request.canaryPercent!;
      await createDeployment(
        ctx,
        [
          { version_id: version, percentage: percent },
          { version_id: stable, percentage: 100 - percent },
        ],
        `Sparki canary ${request.deploymentId} at ${percent}%`,
      );
    }
    return withUrl(ctx, { id: version, data: { stableVersionId: stable } });
  },
  async status(ctx, ref) {
    const deployment = await currentDeployment(ctx);
    const share = deployment?.versions.find((version) => version.version_id === ref.id);
    const url = ctx.config.publicUrl;
    if (!share) return { state: 'ready', url, detail: 'uploaded, not serving traffic' };
    if (share.percentage >= 100) return { state: 'live', url, trafficPercent: 100 };
    return { state: 'live', url, trafficPercent: share.percentage };
  },
  async promote(ctx, ref, percent) {
    if (percent >= 100) {
      await createDeployment(
        ctx,
        [{ version_id: ref.id, percentage: 100 }],
        `Sparki promote ${ref.id}`,
      );
      return;
    }
    const stable = ref.data?.stableVersionId;
    if (typeof stable !== 'string') {
      throw new AdapterValidationError('cloudflare_workers', [
        {
          field: 'ref.data.stableVersionId',
          message: 'a partial promote needs the stable version',
        },
      ]);
    }
    await createDeployment(
      ctx,
      [
        { version_id: ref.id, percentage: percent },
        { version_id: stable, percentage: 100 - percent },
      ],
      `Sparki canary ${ref.id} at ${percent}%`,
    );
  },
  async rollback(ctx, to) {
    await createDeployment(
      ctx,
      [{ version_id: to.id, percentage: 100 }],
      `Sparki rollback to ${to.id}`,
    );
    return withUrl(ctx, { id: to.id });
  },
});
