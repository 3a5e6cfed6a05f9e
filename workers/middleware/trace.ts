import type { Context, MiddlewareHandler } from 'hono';
import { formatTraceparent, TRACEPARENT_HEADER } from '../../core/trace/context';
import { OpenSpan, type Span } from '../../core/trace/span';
import { recordBuildSpans } from '../../domain/tracing/spans';
import { exportSpans, serviceName, tracesExported } from '../../platform/otlp-exporter';
import type { HonoEnv, RequestTrace } from '../context';

// A span per log batch would drown the pipeline's trace in its own log shipping.
const UNTRACED = /^\/api\/jobs\/[^/]+\/logs$/;

/** Named by its route (`POST /webhooks/:provider/:projectId`), as OpenTelemetry's HTTP spans are. */
function serverSpan(c: Context<HonoEnv>, trace: RequestTrace, status: number): Span {
  const route = c.req.routePath;
  const span = trace.span
    .set({
      'http.request.method': c.req.method,
      'http.route': route,
      'http.response.status_code': status,
    })
    .end(status >= 500 ? { code: 'error', message: `HTTP ${status}` } : { code: 'unset' });
  return { ...span, name: `${c.req.method} ${route}` };
}

/**
 * Gives each request its server span. A request that continues a caller's trace has its span
 * exported (when an endpoint is configured) once it is answered; one that starts a build is
 * recorded with it instead (`recordRequestSpan`).
 */
export function trace(): MiddlewareHandler<HonoEnv> {
  return async (c, next) => {
    const incoming = c.req.header(TRACEPARENT_HEADER);
    const span = new OpenSpan(`${c.req.method} ${c.req.path}`, 'server', incoming);
    const requestTrace: RequestTrace = {
      span,
      continued: span.parentSpanId !== null,
      recorded: false,
    };
    c.set('trace', requestTrace);
    await next();
    const { config } = c.get('services');
    if (!requestTrace.continued || requestTrace.recorded || UNTRACED.test(c.req.path)) return;
    if (!tracesExported(config)) return;
    const ended = serverSpan(c, requestTrace, c.res.status);
    c.executionCtx.waitUntil(
      exportSpans(config, [{ service: serviceName(config), spans: [ended] }], c.get('logger')),
    );
  };
}

/** The `traceparent` of the request's span: what the work it starts carries on. */
export function traceparentOf(c: Context<HonoEnv>): string {
  return formatTraceparent(c.get('trace').span.context);
}

/**
 * The request started these builds: its span, ending now with the `status` it answers, is the
 * root of their pipeline runs' trace.
 */
export async function recordRequestSpan(
  c: Context<HonoEnv>,
  buildIds: string[],
  status: number,
): Promise<void> {
  const requestTrace = c.get('trace');
  requestTrace.recorded = true;
  const span = serverSpan(c, requestTrace, status);
  const { config, db } = c.get('services');
  await recordBuildSpans(
    { db: db(), config, logger: c.get('logger') },
    buildIds.map((buildId) => ({ buildId, span })),
  );
}
