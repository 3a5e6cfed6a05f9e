import { dataPointOf } from '../../core/metrics/analytics';
import type { Logger } from '../logger';
import type { Metrics } from './metrics';

/**
 * Production: one data point per event in the Workers Analytics Engine dataset bound as
 * `METRICS` (wrangler.toml). `writeDataPoint` is fire-and-forget: the runtime sends it after the
 * response, so there is nothing to flush.
 */
export function analyticsEngineMetrics(dataset: AnalyticsEngineDataset, logger: Logger): Metrics {
  return {
    record(event) {
      try {
        dataset.writeDataPoint(dataPointOf(event));
      } catch (error) {
        logger.warn('metric_not_written', { event: event.type, error });
      }
    },
    flush: async () => {},
  };
}
