import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { sha256Hex } from '../../core/digest';
import { AUTH_RATE_LIMITS, WEBHOOK_PROJECT_LIMIT } from '../../core/rate-limits';
import { decryptSecret } from '../../core/secret-box';
import { readDelivery, repoKey, toGitEvent, WebhookPayloadError } from '../../core/webhooks/events';
import { verifyWebhookSignature, type WebhookProvider } from '../../core/webhooks/signatures';
import type { Project } from '../../db/schema';
import { announceBuilds } from '../../domain/builds/create';
import {
  acceptDelivery,
  MAX_CANDIDATE_PROJECTS,
  projectsMentioning,
  providerProject,
  REPLAY_WINDOW_SECONDS,
} from '../../domain/webhooks/deliveries';
import { planDelivery } from '../../domain/webhooks/plan';
import { ApiError } from '../../platform/errors';
import { auditFor } from '../audit';
import type { HonoEnv } from '../context';
import { errorResponse, openApiErrorResponses } from '../errors';
import { limitWithin, rateLimit } from '../middleware/rate-limit';
import { recordRequestSpan, traceparentOf } from '../middleware/trace';
import { json } from '../openapi';
import { newRouter } from '../router';
import {
  deliveryText,
  MAX_WEBHOOK_BYTES,
  parseDelivery,
  readCappedBody,
  repositoryUrls,
} from './body';

const ProviderSchema = z.enum(['github', 'gitlab', 'gitea']).openapi({
  description: 'Gitea and Forgejo share `gitea`',
});

export const DeliveryResultSchema = z
  .object({
    status: z.enum(['pong', 'queued', 'recorded', 'ignored', 'duplicate']),
    delivery_id: z.string(),
    project_id: z.uuid().optional(),
    build_id: z.uuid().optional(),
    build_number: z.number().int().optional(),
    reason: z.string().optional(),
    retired_deployment_ids: z.array(z.uuid()).optional().openapi({
      description: 'Preview deployments this delivery retired (branch deleted, PR closed)',
    }),
  })
  .openapi('WebhookDeliveryResult');

const DESCRIPTION =
  'The git provider’s webhook. The raw body (at most 25 MB) is checked before it is parsed: ' +
  'GitHub `X-Hub-Signature-256`, Gitea/Forgejo `X-Gitea-Signature` (HMAC-SHA256), GitLab ' +
  '`X-Gitlab-Token`, against the project’s webhook secret. Every verified delivery is recorded ' +
  'once per project by its delivery id (`X-GitHub-Delivery`, GitLab `Idempotency-Key` else ' +
  '`X-Gitlab-Event-UUID`, `X-Gitea-Delivery`): a redelivery answers `duplicate` and builds ' +
  'nothing, and so does the same body under another delivery id within ' +
  `${REPLAY_WINDOW_SECONDS / 86_400} days (a replay). Branch pushes, tag pushes and opened, ` +
  'reopened or synchronized pull requests queue a build; a deleted branch or a closed or merged ' +
  'pull request retires its preview deployments. Commit shas (40 or 64 hex digits), refs (git’s ' +
  'ref rules, no leading `-`) and pull request numbers are checked before use. Limits: ' +
  `${AUTH_RATE_LIMITS.webhook.ip.limit} deliveries refused for their signature per source ` +
  `address and minute, ${WEBHOOK_PROJECT_LIMIT.limit} verified deliveries per project and ` +
  'minute. See docs/webhooks.md.';

const responses = {
  200: {
    description:
      '`pong`, `recorded` (branch deleted or pull request closed: its previews retired) or ' +
      '`duplicate` (`reason`: the delivery was received before, or its body arrived as another)',
    ...json(DeliveryResultSchema),
  },
  202: { description: '`queued` (a build) or `ignored` (recorded)', ...json(DeliveryResultSchema) },
  400: errorResponse(
    'Delivery id or event header missing or too long; a body that is not JSON (`bad_request`), ' +
      'or not the event’s payload, or with a commit sha, ref or number a build cannot use ' +
      '(`validation_failed`, `details.fields`); recorded as `failed`',
  ),
  401: errorResponse('Signature or token missing, malformed or not matching'),
  404: errorResponse('No project for this URL or repository'),
  413: errorResponse('Body over 25 MB'),
  429: errorResponse(
    'Too many deliveries refused for their signature from this address, or too many verified ' +
      'deliveries for this project (`details.limiter`: `webhook:ip`, `webhook:project`); retry ' +
      'after `Retry-After` seconds',
  ),
  500: openApiErrorResponses[500],
};

type DeliveryResult = z.infer<typeof DeliveryResultSchema>;

function unauthorized(reason: string): ApiError {
  return new ApiError('unauthorized', 'The webhook signature or token did not verify', { reason });
}

async function verifiedFor(
  c: Context<HonoEnv>,
  provider: WebhookProvider,
  project: Project,
  body: Uint8Array<ArrayBuffer>,
) {
  if (!project.webhookSecretEncrypted) return 'no secret' as const;
  const secret = await decryptSecret(
    c.get('services').config.ENCRYPTION_KEY,
    project.webhookSecretEncrypted,
  );
  return verifyWebhookSignature(provider, secret, body, c.req.raw.headers);
}

async function projectById(
  c: Context<HonoEnv>,
  provider: WebhookProvider,
  projectId: string,
  body: Uint8Array<ArrayBuffer>,
): Promise<Project> {
  const project = await providerProject(c.get('services').db(), provider, projectId);
  if (!project) throw new ApiError('not_found', `No ${provider} project with this id`);
  const failure = await verifiedFor(c, provider, project, body);
  if (failure) throw unauthorized(failure);
  return project;
}

export function deliveryOf(provider: WebhookProvider, headers: Headers) {
  try {
    return readDelivery(provider, headers);
  } catch (err) {
    if (err instanceof WebhookPayloadError) throw new ApiError('bad_request', err.message);
    throw err;
  }
}

/**
 * The bare URL: the delivery names its repository, the projects of that repository are found,
 * and the delivery belongs to the one whose secret verifies it (each project has its own
 * secret, so at most one does).
 */
async function projectByRepository(
  c: Context<HonoEnv>,
  provider: WebhookProvider,
  body: Uint8Array<ArrayBuffer>,
  text: string,
): Promise<Project> {
  const keys = [...new Set(repositoryUrls(provider, text).map(repoKey))];
  const notFound = new ApiError(
    'not_found',
    `No ${provider} project for this repository; use the project's own webhook URL`,
  );
  if (keys.length === 0) throw notFound;
  // A coarse filter on the repository path; repoKey decides, since stored URLs vary in form.
  const paths = keys.map((key) => key.slice(key.indexOf('/') + 1) || key);
  const rows = await projectsMentioning(c.get('services').db(), provider, paths);
  const candidates = rows.filter((row) => row.repoUrl && keys.includes(repoKey(row.repoUrl)));
  if (candidates.length === 0) throw notFound;
  const failures: string[] = [];
  for (const candidate of candidates) {
    const failure = await verifiedFor(c, provider, candidate, body);
    if (!failure) return candidate;
    failures.push(failure);
  }
  throw unauthorized(failures.includes('missing') ? 'missing' : 'mismatch');
}

async function receive(
  c: Context<HonoEnv>,
  provider: WebhookProvider,
  projectId: string | undefined,
) {
  const body = await readCappedBody(c.req.raw);
  const delivery = deliveryOf(provider, c.req.raw.headers);
  // The project's own URL verifies before even decoding the body; the bare URL needs its text
  // to know whose secret to try.
  const named = projectId ? await projectById(c, provider, projectId, body) : undefined;
  const text = deliveryText(body, c.req.header('content-type'));
  const project = named ?? (await projectByRepository(c, provider, body, text));
  return processDelivery(c, provider, delivery, body, text, project);
}

/**
 * A verified delivery for `project`, through the pipeline every webhook URL shares: the
 * project's rate limit, the plan, dedupe and recording, and the build it queues.
 */
export async function processDelivery(
  c: Context<HonoEnv>,
  provider: WebhookProvider,
  delivery: { id: string; event: string },
  body: Uint8Array<ArrayBuffer>,
  text: string,
  project: Project,
) {
  const limited = await limitWithin(c, {
    name: 'webhook:project',
    policy: WEBHOOK_PROJECT_LIMIT,
    identifier: project.id,
  });
  if (limited) return c.json(limited.body, 429, limited.headers);
  const logger = c.get('logger').child({
    provider,
    delivery_id: delivery.id,
    git_event: delivery.event,
    project_id: project.id,
  });

  let plan: ReturnType<typeof planDelivery> | undefined;
  let failure: ApiError | undefined;
  try {
    plan = planDelivery(toGitEvent(provider, delivery.event, parseDelivery(text)), project);
  } catch (err) {
    if (err instanceof WebhookPayloadError) {
      failure = new ApiError('validation_failed', err.message, { fields: err.fields });
    } else if (err instanceof ApiError) failure = err;
    else throw err;
  }
  if (plan?.outcome === 'queued') plan.build.traceparent = traceparentOf(c);

  const db = c.get('services').db();
  const outcome = await acceptDelivery(
    db,
    project,
    { provider, id: delivery.id, event: delivery.event, payloadSha256: await sha256Hex(body) },
    plan,
    failure?.message,
    auditFor(c),
  );

  const base = { delivery_id: delivery.id, project_id: project.id };
  if (outcome.duplicate) {
    const replay = outcome.earlier !== delivery.id;
    // The same bytes under a new id: Gitea's replay button, or someone who kept a signed body.
    if (replay) logger.warn('webhook_replayed', { earlier_delivery_id: outcome.earlier });
    else logger.info('webhook_duplicate');
    return c.json(
      {
        ...base,
        status: 'duplicate',
        reason: replay
          ? `the same body arrived as delivery ${outcome.earlier}`
          : 'this delivery was received before',
      } satisfies DeliveryResult,
      200,
    );
  }
  // What was carried out: a push a poll of the repository found first is ignored here.
  plan = outcome.plan;
  if (!plan) {
    logger.warn('webhook_payload_invalid', { error: failure?.message });
    throw failure ?? new ApiError('bad_request', 'Invalid delivery');
  }
  logger.info('webhook_received', { outcome: plan.outcome });
  switch (plan.outcome) {
    case 'pong':
      return c.json({ ...base, status: 'pong' } satisfies DeliveryResult, 200);
    case 'retire': {
      const ids = outcome.retired.map((deployment) => deployment.id);
      logger.info('previews_retired', { count: ids.length, reason: plan.note });
      return c.json(
        {
          ...base,
          status: 'recorded',
          reason: `${plan.note}: ${ids.length} preview deployment${ids.length === 1 ? '' : 's'} retired`,
          retired_deployment_ids: ids,
        } satisfies DeliveryResult,
        200,
      );
    }
    case 'ignored':
      return c.json(
        { ...base, status: 'ignored', reason: plan.reason } satisfies DeliveryResult,
        202,
      );
    case 'queued': {
      const created = outcome.created!;
      await announceBuilds(c.env, db, [created], {
        logger,
        metrics: c.get('services').metrics,
      });
      await recordRequestSpan(c, [created.build.id], 202);
      return c.json(
        {
          ...base,
          status: 'queued',
          build_id: created.build.id,
          build_number: created.build.number,
        } satisfies DeliveryResult,
        202,
      );
    }
  }
}

/** `/webhooks`, public: a delivery proves itself with its project's webhook secret. */
export const webhooksApp = newRouter();

webhooksApp.openapi(
  createRoute({
    method: 'post',
    path: '/{provider}/{projectId}',
    tags: ['webhooks'],
    summary: 'Receive a git provider delivery for one project (the URL to configure)',
    description: DESCRIPTION,
    request: { params: z.object({ provider: ProviderSchema, projectId: z.uuid() }) },
    middleware: [rateLimit('webhook')] as const,
    responses,
  }),
  async (c) => {
    const { provider, projectId } = c.req.valid('param');
    return receive(c, provider, projectId);
  },
);

webhooksApp.openapi(
  createRoute({
    method: 'post',
    path: '/{provider}',
    tags: ['webhooks'],
    summary: 'Receive a git provider delivery, matched to a project by its repository',
    description:
      `${DESCRIPTION} Without a project id, the repository URL fields found in the raw body ` +
      `select the projects whose secrets are tried (at most ${MAX_CANDIDATE_PROJECTS}); the body ` +
      `is parsed once one has verified it. The per-project URL is preferred. Limit: ` +
      `${MAX_WEBHOOK_BYTES} bytes.`,
    request: { params: z.object({ provider: ProviderSchema }) },
    middleware: [rateLimit('webhook')] as const,
    responses,
  }),
  async (c) => {
    const { provider } = c.req.valid('param');
    return receive(c, provider, undefined);
  },
);
