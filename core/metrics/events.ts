/**
 * What happened, as the places where it happens say it: one event type per fact, with the
 * dimensions both backends need. Analytics Engine keeps every field (core/metrics/analytics.ts);
 * Prometheus keeps low-cardinality labels only (core/metrics/observations.ts).
 */
export type MetricEvent =
  | {
      type: 'http_request';
      method: string;
      /** The route pattern (`/api/projects/:id`), never the raw path. */
      route: string;
      status: number;
      seconds: number;
    }
  | {
      type: 'build_finished';
      result: 'succeeded' | 'failed' | 'canceled' | 'timed_out';
      projectId?: string | undefined;
      workspaceId?: string | undefined;
      trigger?: string | undefined;
      /** From the runner lease to the end; absent for a build that never ran. */
      seconds?: number | undefined;
    }
  | {
      type: 'build_leased';
      projectId: string;
      workspaceId?: string | undefined;
      runnerId: string;
      /** Build created → lease. */
      queueWaitSeconds: number;
      /** Offered to the RunnerHub → lease. */
      pickupSeconds: number;
    }
  | {
      type: 'build_step';
      name: string;
      status: string;
      seconds: number;
      projectId: string;
    }
  | {
      type: 'deployment_finished';
      result: string;
      stage: string;
      platform: string;
      /** From its turn to its end; absent for one that never took its turn. */
      seconds?: number | undefined;
      projectId: string;
      workspaceId?: string | undefined;
    }
  | {
      type: 'rollback';
      kind: 'automatic' | 'manual';
      stage: string;
      platform: string;
      projectId: string;
      workspaceId?: string | undefined;
    }
  | {
      type: 'webhook_delivery';
      provider: string;
      outcome: WebhookOutcome;
      projectId?: string | undefined;
    }
  | {
      type: 'runner_utilisation';
      workspaceId: string;
      busy: number;
      capacity: number;
      online: number;
    };

/** The delivery's answer (`queued` … `duplicate`), or why it had none. */
export type WebhookOutcome =
  | 'queued'
  | 'ignored'
  | 'recorded'
  | 'pong'
  | 'duplicate'
  | 'invalid'
  | 'rejected'
  | 'unmatched'
  | 'rate_limited'
  | 'error';

export type MetricEventType = MetricEvent['type'];
