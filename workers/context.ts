import type { TokenCredential } from '../domain/accounts/api-tokens';
import type { SessionCredential } from '../domain/accounts/sessions';
import type { Logger } from '../platform/logger';
import type { Services } from '../platform/services';
import type { RequestTrace } from './middleware/trace';

/** Who makes the request: a user's session, or a personal access token of one workspace. */
export type Principal = (SessionCredential & { viaCookie: boolean }) | TokenCredential;

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
