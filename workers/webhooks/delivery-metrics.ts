import type { MiddlewareHandler } from 'hono';
import type { WebhookOutcome } from '../../core/metrics/events';
import type { HonoEnv } from '../context';
import { DeliveryResultSchema } from './routes';

// `/webhooks/github-app` is GitHub's too; anything else is no provider and is not counted.
const PROVIDER_OF_SEGMENT: Record<string, string> = {
  github: 'github',
  gitlab: 'gitlab',
  gitea: 'gitea',
  'github-app': 'github',
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const OUTCOME_OF_STATUS: Record<number, WebhookOutcome> = {
  400: 'invalid',
  401: 'rejected',
  404: 'unmatched',
  413: 'invalid',
  415: 'invalid',
  429: 'rate_limited',
};

/** What became of a delivery, read from the answer every webhook route documents. */
async function outcomeOf(response: Response): Promise<WebhookOutcome> {
  if (response.ok) {
    const body: unknown = await response
      .clone()
      .json()
      .catch(() => undefined);
    const parsed = DeliveryResultSchema.shape.status.safeParse(
      (body as { status?: unknown } | undefined)?.status,
    );
    if (parsed.success) return parsed.data;
  }
  return OUTCOME_OF_STATUS[response.status] ?? 'error';
}

/**
 * Counts every delivery to `/webhooks/*` by provider and outcome, whichever of its routes
 * answered (a project's URL, the bare URL, the GitHub App's) and however it ended.
 */
export function countDeliveries(): MiddlewareHandler<HonoEnv> {
  return async (c, next) => {
    await next();
    if (c.req.method !== 'POST') return;
    const [, , segment = '', projectId = ''] = c.req.path.split('/');
    const provider = PROVIDER_OF_SEGMENT[segment];
    // Without services the configuration is broken, and nothing is recorded anywhere.
    const metrics = c.get('services')?.metrics;
    if (!provider || !metrics) return;
    metrics.record({
      type: 'webhook_delivery',
      provider,
      outcome: await outcomeOf(c.res),
      projectId: UUID.test(projectId) ? projectId : undefined,
    });
  };
}
