import { cloudflareWorkers } from './cloudflare-workers';
import { flyMachines } from './fly-machines';
import { railway } from './railway';
import { render } from './render';
import type { DeployAdapter, ProviderId } from './types';
import { vercel } from './vercel';
import { webhook } from './webhook';

export const DEPLOY_ADAPTERS = {
  cloudflare_workers: cloudflareWorkers,
  fly_machines: flyMachines,
  render,
  railway,
  vercel,
  webhook,
} as const satisfies Record<ProviderId, DeployAdapter>;

export function deployAdapter(provider: ProviderId): DeployAdapter {
  return DEPLOY_ADAPTERS[provider];
}

export {
  AdapterValidationError,
  checkImage,
  checkStrategy,
  UnsupportedOperationError,
} from './adapter';
export { ProviderError, RateLimitedError, retryAfterMs } from './http';
export type * from './types';
export { EDGE, PROVIDERS, STRATEGIES } from './types';
export { REPLAY_WINDOW_SECONDS, signWebhook, verifyWebhook } from './webhook';
