import {
  encodeOtlpTraces,
  parseOtlpHeaders,
  type ServiceSpans,
  tracesEndpoint,
} from '../core/trace/otlp';
// A named import: the Worker's bundle then carries this one field, not the whole manifest.
import { version } from '../package.json';
import type { Config } from './config';
import type { Logger } from './logger';

/** A collector that does not answer in this time loses the spans rather than hold up a hop. */
const EXPORT_TIMEOUT_MS = 5_000;

export type OtlpConfig = Pick<
  Config,
  | 'OTEL_EXPORTER_OTLP_ENDPOINT'
  | 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'
  | 'OTEL_EXPORTER_OTLP_HEADERS'
  | 'OTEL_SERVICE_NAME'
>;

/** The platform's own service name in exported traces. */
export function serviceName(config: OtlpConfig): string {
  return config.OTEL_SERVICE_NAME ?? 'sparki';
}

export function tracesExported(config: OtlpConfig): boolean {
  return tracesEndpoint(config) !== undefined;
}

/**
 * POSTs the spans as one OTLP/HTTP JSON request when an endpoint is configured. Best effort:
 * a failed export is logged and dropped, never a failure of the work it describes.
 */
export async function exportSpans(
  config: OtlpConfig,
  groups: ServiceSpans[],
  logger: Logger,
  fetcher: typeof fetch = fetch,
): Promise<void> {
  const endpoint = tracesEndpoint(config);
  if (!endpoint || groups.every((group) => group.spans.length === 0)) return;
  try {
    const response = await fetcher(endpoint, {
      method: 'POST',
      headers: {
        ...parseOtlpHeaders(config.OTEL_EXPORTER_OTLP_HEADERS),
        'content-type': 'application/json',
      },
      body: JSON.stringify(encodeOtlpTraces(groups, version)),
      signal: AbortSignal.timeout(EXPORT_TIMEOUT_MS),
    });
    if (!response.ok) {
      logger.warn('trace_export_refused', {
        status: response.status,
        body: (await response.text()).slice(0, 300),
      });
    } else await response.body?.cancel();
  } catch (error) {
    logger.warn('trace_export_failed', { error });
  }
}
