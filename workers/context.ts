import type { OpenSpan } from '../core/trace/span';
import type { TokenCredential } from '../domain/accounts/api-tokens';
import type { SessionCredential } from '../domain/accounts/sessions';
import type { Logger } from '../platform/logger';
import type { Services } from '../platform/services';

/** Who makes the request: a user's session, or a personal access token of one workspace. */
export type Principal = (SessionCredential & { viaCookie: boolean }) | TokenCredential;

/** The request's server span: a child of the caller's `traceparent`, or a new trace's root. */
export interface RequestTrace {
  span: OpenSpan;
  /** The caller sent a trace context (a runner on the job API, a traced client). */
  continued: boolean;
  /** Recorded with a build already (the request started it): not exported a second time. */
  recorded: boolean;
}

export type HonoEnv = {
  Bindings: Env;
  Variables: {
    requestId: string;
    logger: Logger;
    services: Services;
    principal: Principal | null;
    /** Set by a route whose response carries a fresh secret: it is never stored for replay. */
    idempotencySkip: boolean;
    trace: RequestTrace;
  };
};
