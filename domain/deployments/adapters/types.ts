import type { z } from 'zod';
import type { Database, Transaction } from '../../../db/client';

export const STRATEGIES = ['all_at_once', 'blue_green', 'canary'] as const;
export type Strategy = (typeof STRATEGIES)[number];

export const PROVIDERS = [
  'cloudflare_workers',
  'fly_machines',
  'render',
  'railway',
  'vercel',
  'webhook',
] as const;
export type ProviderId = (typeof PROVIDERS)[number];

/** The built-in edge host: a deployment's platform when it is none of the providers. */
export const EDGE = 'edge';
export type Platform = typeof EDGE | ProviderId;

/** Every provider call goes through this, so the Worker, the CLI and tests share one client. */
export type Fetch = (request: Request) => Promise<Response>;

export interface Capabilities {
  strategies: readonly Strategy[];
  /** `native`: the provider switches traffic to an already running deployment without rebuilding. */
  promote: 'native' | 'none';
  /** `native`: the provider restores an earlier deployment itself; `redeploy`: we push the earlier artifact again. */
  rollback: 'native' | 'redeploy';
  /**
   * What `deploy` does to production traffic. `strategy`: what the strategy says, all of it for
   * all-at-once, the first share for a canary, none for blue-green. `promote`: none, whatever the
   * strategy; every share moves by `promote`, once the deployment has passed its health check on
   * its own URL (the edge host).
   */
  traffic: 'strategy' | 'promote';
  /**
   * Whether it deploys a container image (`artifact.image`, resolved from the environment's
   * `deploy_config.image` template): `required`, `optional` (an image when one is set, else the
   * commit or download URL), or `unused` (it deploys the output files).
   */
  image: 'required' | 'optional' | 'unused';
}

export interface ArtifactFile {
  /** Relative to the build output root, `/`-separated, no leading slash. */
  path: string;
  size: number;
}

/** What validation may look at: the build's description, never its bytes. */
export interface ArtifactInfo {
  buildId: string;
  commitSha?: string;
  /** A container image reference, for platforms that run images (from `deploy_config.image`). */
  image?: string;
  /** A signed, expiring URL of the output as a .tar.gz (handed to webhooks). */
  downloadUrl?: string;
  files?: readonly ArtifactFile[];
}

export interface Artifact extends ArtifactInfo {
  read?(path: string): Promise<Uint8Array>;
}

/** One precise thing that stops a deploy, e.g. `{ field: 'credentials.apiToken', message: 'missing' }`. */
export interface Problem {
  field: string;
  message: string;
}

/** Stored per environment (credentials encrypted); parsed again by the adapter on every call. */
export interface Target {
  config: unknown;
  credentials: unknown;
  fetch: Fetch;
  /**
   * Sparki's database, where the edge host keeps what it serves (a deployment's files, the
   * environment's pointers); while traffic moves, the transaction holding the environment's turn.
   * Providers keep that on their side.
   */
  db?: Database | Transaction;
}

export interface DeployRequest {
  /** Sparki's deployment id: providers get it as metadata, webhooks as their delivery key. */
  deploymentId: string;
  environment: string;
  stage: 'production' | 'preview';
  strategy: Strategy;
  /** Share of production traffic for the first canary step, 1–99. */
  canaryPercent?: number;
  artifact: Artifact;
}

/** The provider's handle on one deployment, stored on the deployment row (plain JSON). */
export interface ProviderRef {
  id: string;
  url?: string;
  data?: Record<string, string | string[]>;
}

/**
 * `ready`: running on its own URL but not serving production (blue-green before the switch);
 * `superseded`: replaced by a later deployment.
 */
export type ProviderState = 'in_progress' | 'ready' | 'live' | 'failed' | 'canceled' | 'superseded';

export interface ProviderStatus {
  state: ProviderState;
  url?: string;
  /** Share of production traffic when split (canary). */
  trafficPercent?: number;
  detail?: string;
}

export interface DeployAdapter {
  id: Platform;
  name: string;
  docsUrl: string;
  capabilities: Capabilities;
  configSchema: z.ZodType;
  credentialsSchema: z.ZodType;
  /**
   * The provider-side thing a config deploys to (a project, a script, a service), or undefined
   * for an invalid config: two environments with the same key share their deployments.
   */
  targetKey(config: unknown): string | undefined;
  validate(
    config: unknown,
    credentials: unknown,
    artifact: ArtifactInfo,
    strategy?: Strategy,
  ): Problem[];
  deploy(target: Target, request: DeployRequest): Promise<ProviderRef>;
  status(target: Target, ref: ProviderRef): Promise<ProviderStatus>;
  /** Sends production traffic to `ref`: all of it, or `percent` of it for a canary step. */
  promote(target: Target, ref: ProviderRef, percent?: number): Promise<void>;
  /** Puts `to` (an earlier deployment) back in production; returns what now serves. */
  rollback(target: Target, to: ProviderRef): Promise<ProviderRef>;
}
