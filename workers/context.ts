import type { Redis } from '@upstash/redis/cloudflare';
import type { Database } from '../db/client';
import type { Config } from '../platform/config';
import type { Logger } from '../platform/logger';
import type { Principal } from './auth/principal';

export interface Services {
  config: Config;
  /** Opens the request's Postgres pool on first use; it is closed after the response. */
  db(): Database;
  /** Null when no Redis is configured: rate limits and caches are then off. */
  redis: Redis | null;
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
  };
};
