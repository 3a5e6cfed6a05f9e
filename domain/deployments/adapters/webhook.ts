// A generic signed deploy webhook: Sparki POSTs JSON to the user's URL, signed like GitHub and
// Stripe webhooks, and expects any 2xx. The contract is Sparki's own; it is written out in
// docs/deploy-adapters.md ("Generic signed webhook").
//
//   X-Sparki-Event:     deploy | promote | rollback
//   X-Sparki-Delivery:  `<deployment id>:<event>` — the same on redelivery, so receivers can dedupe
//   X-Sparki-Timestamp: Unix seconds
//   X-Sparki-Signature: sha256=<hex HMAC-SHA256(secret, `${timestamp}.${body}`)>
//
// Receivers must reject timestamps more than REPLAY_WINDOW_SECONDS away from their clock.
import { z } from 'zod';
import { constantTimeEqual, hmacSha256Hex } from '../../../core/digest';
import { type Context, defineAdapter } from './adapter';
import { call, type ErrorReader, readJson } from './http';
import type { ProviderRef, ProviderState, Strategy } from './types';

export const REPLAY_WINDOW_SECONDS = 300;

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** https, except on loopback addresses where local receivers listen over plain http. */
const endpoint = z.url().refine((value) => {
  const parsed = new URL(value);
  return (
    parsed.protocol === 'https:' || (parsed.protocol === 'http:' && LOOPBACK.has(parsed.hostname))
  );
}, 'must be an https URL');

const configSchema = z.object({
  url: endpoint,
  /** Optional: GET here (with `?deployment=<id>`) answers `{ status, url? }`. */
  statusUrl: endpoint.optional(),
});
type Config = z.infer<typeof configSchema>;

const credentialsSchema = z.object({
  secret: z.string().min(32, 'use a signing secret of at least 32 characters'),
});
type Credentials = z.infer<typeof credentialsSchema>;
type Ctx = Context<Config, Credentials>;

export type WebhookEvent = 'deploy' | 'promote' | 'rollback';

export interface WebhookPayload {
  event: WebhookEvent;
  deployment: { id: string; stage?: string; strategy?: Strategy };
  build?: { id: string; commit_sha?: string };
  artifact_url?: string;
  /** The container image, when the environment sets `deploy_config.image`. */
  image?: string;
  environment?: string;
}

const encoder = new TextEncoder();

export async function signWebhook(
  secret: string,
  timestamp: number,
  body: string,
): Promise<string> {
  return `sha256=${await hmacSha256Hex(secret, `${timestamp}.${body}`)}`;
}

/** For receivers (and tests): signature valid and timestamp inside the replay window. */
export async function verifyWebhook(input: {
  secret: string;
  timestamp: string | null;
  body: string;
  signature: string | null;
  nowSeconds?: number;
}): Promise<boolean> {
  const timestamp = Number(input.timestamp);
  const now = input.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (!input.signature || !Number.isInteger(timestamp)) return false;
  if (Math.abs(now - timestamp) > REPLAY_WINDOW_SECONDS) return false;
  const expected = await signWebhook(input.secret, timestamp, input.body);
  return constantTimeEqual(encoder.encode(expected), encoder.encode(input.signature));
}

const readError: ErrorReader = (body) => {
  const { error, message } = body as { error?: unknown; message?: unknown };
  const text =
    typeof error === 'string' ? error : typeof message === 'string' ? message : undefined;
  return text ? { message: text } : undefined;
};

async function signedHeaders(ctx: Ctx, event: string, delivery: string, body: string) {
  const timestamp = Math.floor(Date.now() / 1000);
  return {
    'user-agent': 'sparki',
    'x-sparki-event': event,
    'x-sparki-delivery': delivery,
    'x-sparki-timestamp': String(timestamp),
    'x-sparki-signature': await signWebhook(ctx.credentials.secret, timestamp, body),
  };
}

async function post(ctx: Ctx, payload: WebhookPayload): Promise<{ url?: string }> {
  const body = JSON.stringify(payload);
  const delivery = `${payload.deployment.id}:${payload.event}`;
  const response = await call(
    { provider: 'webhook', fetch: ctx.fetch, readError },
    new Request(ctx.config.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(await signedHeaders(ctx, payload.event, delivery, body)),
      },
      body,
    }),
  );
  // The answer body is optional; a receiver that knows the URL it deployed to may send `{ url }`.
  const text = await response.text();
  try {
    const answer = JSON.parse(text) as { url?: unknown };
    return typeof answer.url === 'string' ? { url: answer.url } : {};
  } catch {
    return {};
  }
}

const STATES: Record<string, ProviderState> = {
  in_progress: 'in_progress',
  ready: 'ready',
  live: 'live',
  failed: 'failed',
  canceled: 'canceled',
};

export const webhook = defineAdapter<Config, Credentials>({
  id: 'webhook',
  name: 'Signed deploy webhook',
  docsUrl: 'docs/deploy-adapters.md#generic-signed-webhook',
  capabilities: {
    strategies: ['all_at_once', 'blue_green'],
    promote: 'native',
    rollback: 'native',
    traffic: 'strategy',
    image: 'optional',
  },
  configSchema,
  credentialsSchema,
  targetKey: (config) => config.url,
  checkArtifact(artifact) {
    return artifact.downloadUrl
      ? []
      : [
          {
            field: 'artifact.downloadUrl',
            message: 'the receiver needs a URL to fetch the build from',
          },
        ];
  },
  async deploy(ctx, request) {
    const { artifact } = request;
    const answer = await post(ctx, {
      event: 'deploy',
      deployment: { id: request.deploymentId, stage: request.stage, strategy: request.strategy },
      build: {
        id: artifact.buildId,
        ...(artifact.commitSha ? { commit_sha: artifact.commitSha } : {}),
      },
      artifact_url: artifact.downloadUrl,
      ...(artifact.image ? { image: artifact.image } : {}),
      environment: request.environment,
    });
    const ref: ProviderRef = { id: request.deploymentId };
    return answer.url ? { ...ref, url: answer.url } : ref;
  },
  async status(ctx, ref) {
    if (!ctx.config.statusUrl) {
      // Without a status URL, the receiver's 2xx is the only word we get.
      return { state: 'live', url: ref.url, detail: 'accepted by the receiver' };
    }
    const statusUrl = new URL(ctx.config.statusUrl);
    statusUrl.searchParams.set('deployment', ref.id);
    const response = await call(
      { provider: 'webhook', fetch: ctx.fetch, readError },
      new Request(statusUrl, {
        method: 'GET',
        headers: await signedHeaders(ctx, 'status', `${ref.id}:status`, ''),
      }),
    );
    const answer = await readJson<{ status?: unknown; url?: unknown }>('webhook', response);
    const state = typeof answer.status === 'string' ? STATES[answer.status] : undefined;
    return {
      state: state ?? 'in_progress',
      url: typeof answer.url === 'string' ? answer.url : ref.url,
      ...(state ? {} : { detail: `unknown status ${String(answer.status)}` }),
    };
  },
  async promote(ctx, ref) {
    await post(ctx, { event: 'promote', deployment: { id: ref.id } });
  },
  async rollback(ctx, to) {
    await post(ctx, { event: 'rollback', deployment: { id: to.id } });
    return to;
  },
});
