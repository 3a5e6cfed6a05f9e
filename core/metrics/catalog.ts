/**
 * Every metric Sparki exposes, once: name, help, kind, labels and (for histograms) bucket upper
 * bounds in seconds. The Prometheus endpoint prints them in this order; docs/observability.md
 * explains where each comes from.
 */
export type MetricKind = 'counter' | 'histogram' | 'gauge';

export interface MetricSpec {
  name: string;
  help: string;
  kind: MetricKind;
  labels: readonly string[];
  /** Histograms only: ascending upper bounds; `+Inf` is implied. */
  buckets?: readonly number[];
}

// Request latency in a Worker: a few ms for a cached read, seconds for an upload or a slow query.
const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
// Waiting for a runner: ~1 s of queue batching when idle, minutes when every slot is busy.
const WAIT_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600];
// Build steps and deployments: seconds for a static site, up to the one-hour build limit.
const WORK_BUCKETS = [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600];

export const METRICS = {
  httpRequestDuration: {
    name: 'sparki_http_request_duration_seconds',
    help: 'API request latency by route pattern (not the raw path), method and status code.',
    kind: 'histogram',
    labels: ['method', 'route', 'status'],
    buckets: REQUEST_BUCKETS,
  },
  buildsFinished: {
    name: 'sparki_builds_finished_total',
    help: 'Builds that ended, by result.',
    kind: 'counter',
    labels: ['result'],
  },
  buildQueueWait: {
    name: 'sparki_build_queue_wait_seconds',
    help: "From a build's creation to its first runner lease.",
    kind: 'histogram',
    labels: [],
    buckets: WAIT_BUCKETS,
  },
  runnerPickup: {
    name: 'sparki_runner_pickup_seconds',
    help: "From a job's offer to the workspace's RunnerHub to the lease a runner took it under.",
    kind: 'histogram',
    labels: [],
    buckets: WAIT_BUCKETS,
  },
  buildStepDuration: {
    name: 'sparki_build_step_duration_seconds',
    help: 'Duration of finished build steps, by step and status.',
    kind: 'histogram',
    labels: ['step', 'status'],
    buckets: WORK_BUCKETS,
  },
  deploymentsFinished: {
    name: 'sparki_deployments_finished_total',
    help: 'Deployments the engine ended, by result and stage.',
    kind: 'counter',
    labels: ['result', 'stage'],
  },
  deploymentDuration: {
    name: 'sparki_deployment_duration_seconds',
    help: 'From a deployment taking its turn (validating) to its end, by result and stage.',
    kind: 'histogram',
    labels: ['result', 'stage'],
    buckets: WORK_BUCKETS,
  },
  rollbacks: {
    name: 'sparki_deployment_rollbacks_total',
    help: 'Rollbacks, automatic (a failed production deployment) or manual (the API).',
    kind: 'counter',
    labels: ['kind', 'stage'],
  },
  webhookDeliveries: {
    name: 'sparki_webhook_deliveries_total',
    help: 'Git provider webhook deliveries, by provider and outcome.',
    kind: 'counter',
    labels: ['provider', 'outcome'],
  },
  runners: {
    name: 'sparki_runners',
    help: 'Registered runners by status (from Postgres at scrape time).',
    kind: 'gauge',
    labels: ['status'],
  },
  runnerSlots: {
    name: 'sparki_runner_slots',
    help: 'Build slots of online runners: their capacity, and those running a build.',
    kind: 'gauge',
    labels: ['state'],
  },
  runnerUtilisation: {
    name: 'sparki_runner_utilisation_ratio',
    help: 'Busy slots over the capacity of online runners (0 when none is online).',
    kind: 'gauge',
    labels: [],
  },
  buildsActive: {
    name: 'sparki_builds_active',
    help: 'Builds not finished yet, by status (from Postgres at scrape time).',
    kind: 'gauge',
    labels: ['status'],
  },
} as const satisfies Record<string, MetricSpec>;

export type MetricId = keyof typeof METRICS;
