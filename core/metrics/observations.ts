import { METRICS, type MetricSpec } from './catalog';
import type { MetricEvent } from './events';

export type Labels = Record<string, string>;

/** One change to one series: a counter's increment, or a value a histogram observes. */
export interface Observation {
  spec: MetricSpec;
  labels: Labels;
  value: number;
}

// Runners name their steps; a label keeps only the ones Sparki's runner plans, so a runner that
// invents names cannot multiply the series.
const STEP_LABELS: Record<string, string> = {
  'install dependencies': 'install',
  install: 'install',
  build: 'build',
  checkout: 'checkout',
  upload: 'upload',
};

export function stepLabel(name: string): string {
  return STEP_LABELS[name.trim().toLowerCase()] ?? 'other';
}

const counter = (spec: MetricSpec, labels: Labels = {}): Observation => ({
  spec,
  labels,
  value: 1,
});

/**
 * What an event changes in the Prometheus series. Ids (project, workspace, runner) are left
 * out: they would make a series per tenant, which Analytics Engine holds and Prometheus should
 * not. `runner_utilisation` changes nothing here: the endpoint reads it from Postgres.
 */
export function observationsOf(event: MetricEvent): Observation[] {
  switch (event.type) {
    case 'http_request':
      return [
        {
          spec: METRICS.httpRequestDuration,
          labels: { method: event.method, route: event.route, status: String(event.status) },
          value: event.seconds,
        },
      ];
    case 'build_finished':
      return [counter(METRICS.buildsFinished, { result: event.result })];
    case 'build_leased':
      return [
        { spec: METRICS.buildQueueWait, labels: {}, value: event.queueWaitSeconds },
        { spec: METRICS.runnerPickup, labels: {}, value: event.pickupSeconds },
      ];
    case 'build_step':
      return [
        {
          spec: METRICS.buildStepDuration,
          labels: { step: stepLabel(event.name), status: event.status },
          value: event.seconds,
        },
      ];
    case 'deployment_finished': {
      const labels = { result: event.result, stage: event.stage };
      return [
        counter(METRICS.deploymentsFinished, labels),
        ...(event.seconds === undefined
          ? []
          : [{ spec: METRICS.deploymentDuration, labels, value: event.seconds }]),
      ];
    }
    case 'rollback':
      return [counter(METRICS.rollbacks, { kind: event.kind, stage: event.stage })];
    case 'webhook_delivery':
      return [
        counter(METRICS.webhookDeliveries, { provider: event.provider, outcome: event.outcome }),
      ];
    case 'runner_utilisation':
      return [];
  }
}
