import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { migrateDatabase } from '../db/migrate';
import { generatePlatformKeys } from '../dev/keys';
import { postgresTarget, startNeonProxy } from '../dev/neon-proxy';
import { startPostgres } from '../dev/postgres';
import { startRedisBridge } from '../dev/redis-bridge';
import { startRedis } from '../dev/redis-server';
import { startGitHostDouble } from './git-host-double';
import { startGitHubOAuthDouble } from './github-oauth-double';
import { startOidcProvider } from './oidc-provider';
import { startResendDouble } from './resend-double';

/** The origin the Worker tests send requests to (test/workers/harness.ts) and its PUBLIC_URL. */
const PUBLIC_URL = 'http://sparki.test';

declare module 'vitest' {
  interface ProvidedContext {
    databaseUrl: string;
    neonWsProxy: string;
    redisRestUrl: string;
    redisRestToken: string;
    jwtSigningKeys: string;
    encryptionKey: string;
    publicUrl: string;
    oidcIssuer: string;
    oidcClientId: string;
    oidcClientSecret: string;
    githubClientId: string;
    githubClientSecret: string;
    githubOAuthBaseUrl: string;
    githubApiBaseUrl: string;
    resendBaseUrl: string;
    resendApiKey: string;
    gitHostUrl: string;
  }
}

/**
 * Real dependencies for the Worker under test: Postgres (embedded, or DATABASE_URL) behind the
 * Neon-compatible proxy with migrations applied, and Redis behind the Upstash REST bridge.
 * Test files share the database, so every test creates its own rows under fresh ids.
 */
export default async function setup(project: TestProject) {
  const scratch = await mkdtemp(join(tmpdir(), 'sparki-test-'));
  const postgres = await startPostgres();
  const proxy = await startNeonProxy({ allowedTargets: [postgresTarget(postgres.url)] });
  await migrateDatabase(postgres.url, { wsProxy: proxy.wsProxy });

  const redis = await startRedis({ dataDir: join(scratch, 'redis') });
  const token = crypto.randomUUID();
  const bridge = redis ? await startRedisBridge({ redisUrl: redis.url, token }) : undefined;
  if (!bridge)
    console.warn(
      'No Redis found (REDIS_URL or redis-server on PATH): Redis-backed tests run degraded.',
    );

  project.provide('databaseUrl', postgres.url);
  project.provide('neonWsProxy', proxy.wsProxy);
  project.provide('redisRestUrl', bridge?.url ?? '');
  project.provide('redisRestToken', bridge ? token : '');
  const keys = await generatePlatformKeys();
  project.provide('jwtSigningKeys', keys.JWT_SIGNING_KEYS);
  project.provide('encryptionKey', keys.ENCRYPTION_KEY);

  // A real OpenID Provider; GitHub has no local edition, so a double of its documented API.
  const oidc = await startOidcProvider(`${PUBLIC_URL}/api/auth/oidc/oidc/callback`);
  const github = await startGitHubOAuthDouble();
  project.provide('publicUrl', PUBLIC_URL);
  project.provide('oidcIssuer', oidc.issuer);
  project.provide('oidcClientId', oidc.clientId);
  project.provide('oidcClientSecret', oidc.clientSecret);
  project.provide('githubClientId', github.clientId);
  project.provide('githubClientSecret', github.clientSecret);
  project.provide('githubOAuthBaseUrl', github.oauthBaseUrl);
  project.provide('githubApiBaseUrl', github.apiBaseUrl);
  // Resend has no local edition either: a stand-in following its documented send API.
  const resend = await startResendDouble();
  project.provide('resendBaseUrl', resend.baseUrl);
  project.provide('resendApiKey', resend.apiKey);
  // Nor GitLab and Gitea: one stand-in serving both APIs (repository webhooks).
  const gitHost = await startGitHostDouble();
  project.provide('gitHostUrl', gitHost.baseUrl);

  return async () => {
    await gitHost.close();
    await resend.close();
    await github.close();
    await oidc.close();
    await bridge?.close();
    await redis?.stop();
    await proxy.close();
    await postgres.stop();
    await rm(scratch, { recursive: true, force: true });
  };
}
