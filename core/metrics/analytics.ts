import type { MetricEvent } from './events';

/** Workers Analytics Engine's data point, as `writeDataPoint` takes it. */
export interface DataPoint {
  indexes: [string];
  blobs: string[];
  doubles: number[];
}

/**
 * One row of the `sparki_events` dataset per event, in one positional layout for every type so
 * queries stay simple (docs/observability.md has the table and example SQL):
 * - index1: the event type: Analytics Engine samples per index, so a flood of API requests
 *   never thins out the rare events (rollbacks, failed builds) beside it;
 * - blob1 outcome, blob2 subject, blob3 detail, blob4 workspace id, blob5 project id;
 * - double1 the main duration in seconds (or 1, a count), double2… what the type adds.
 */
export function dataPointOf(event: MetricEvent): DataPoint {
  const point = (
    blobs: [string, string, string, string?, string?],
    doubles: (number | undefined)[],
  ): DataPoint => ({
    indexes: [event.type],
    blobs: Array.from({ length: 5 }, (_, i) => blobs[i] ?? ''),
    doubles: doubles.map((double) => double ?? 0),
  });
  switch (event.type) {
    case 'http_request':
      return point(
        [String(event.status), event.route, event.method],
        [event.seconds, event.status],
      );
    case 'build_finished':
      return point(
        [event.result, event.trigger ?? '', '', event.workspaceId, event.projectId],
        [event.seconds ?? 0],
      );
    case 'build_leased':
      return point(
        ['leased', event.runnerId, '', event.workspaceId, event.projectId],
        [event.queueWaitSeconds, event.pickupSeconds],
      );
    case 'build_step':
      return point([event.status, event.name, '', '', event.projectId], [event.seconds]);
    case 'deployment_finished':
      return point(
        [event.result, event.platform, event.stage, event.workspaceId, event.projectId],
        [event.seconds ?? 0],
      );
    case 'rollback':
      return point(
        [event.kind, event.platform, event.stage, event.workspaceId, event.projectId],
        [1],
      );
    case 'webhook_delivery':
      return point([event.outcome, event.provider, '', '', event.projectId], [1]);
    case 'runner_utilisation':
      return point(
        ['', '', '', event.workspaceId],
        [
          event.capacity === 0 ? 0 : event.busy / event.capacity,
          event.busy,
          event.capacity,
          event.online,
        ],
      );
  }
}
