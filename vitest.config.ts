import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';
import { type Unstable_Config, unstable_readConfig } from 'wrangler';

// wrangler.toml's [assets] is the built dashboard; `npm test` rebuilds it first (pretest), and a
// run of single files on a fresh clone builds it once here.
if (!existsSync('web/dist/index.html')) {
  execFileSync('npm', ['run', '--silent', 'web:build'], { stdio: 'inherit' });
}

// expect.poll gives up after 1 s by default. These projects poll a whole local stack (pages, logs,
// a browser rendering an API answer), which under a loaded CI machine can take several seconds;
// a poll that is going to fail still fails, just later.
const SLOW_POLL = { timeout: 15_000, interval: 100 };

// wrangler.toml's queues, except for the batch window: the Worker tests hand message batches to
// the consumers themselves and then look at what they did, which a 0 s window lets the queue's
// own consumer race. They keep 1 s; production, `npm run dev` and the e2e tests run the file's 0.
type QueueConsumer = NonNullable<Unstable_Config['queues']['consumers']>[number];
const queueConsumers = Object.fromEntries(
  (unstable_readConfig({ config: './wrangler.toml' }).queues.consumers ?? []).map(
    (consumer: QueueConsumer) => [
      consumer.queue,
      {
        maxBatchSize: consumer.max_batch_size,
        maxBatchTimeout: Math.max(consumer.max_batch_timeout ?? 0, 1),
        maxRetries: consumer.max_retries,
        deadLetterQueue: consumer.dead_letter_queue,
      },
    ],
  ),
);

export default defineConfig({
  test: {
    // At the root, not in the Workers project: there Vite would resolve Node-only packages (ws,
    // ioredis) with workerd conditions. Values it provides reach every project.
    globalSetup: ['test/global-setup.ts'],
    projects: [
      {
        test: {
          name: 'node',
          environment: 'node',
          include: [
            'test/node/**/*.test.ts',
            'core/**/*.test.ts',
            'dev/**/*.test.ts',
            'cli/**/*.test.ts',
            'web/**/*.test.ts',
          ],
          testTimeout: 30_000,
          hookTimeout: 60_000,
          expect: { poll: SLOW_POLL },
        },
      },
      {
        test: {
          name: 'browser',
          environment: 'node',
          include: ['test/browser/**/*.test.ts'],
          setupFiles: ['test/browser/setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 240_000,
          expect: { poll: SLOW_POLL },
        },
      },
      {
        plugins: [
          cloudflareTest(({ inject }) => ({
            wrangler: { configPath: './wrangler.toml' },
            miniflare: {
              // wrangler.toml is production's; the tests run the development configuration.
              bindings: {
                APP_ENV: 'development',
                HOSTING_DOMAIN: 'localhost',
                DATABASE_URL: inject<string>('databaseUrl'),
                NEON_WS_PROXY: inject<string>('neonWsProxy'),
                UPSTASH_REDIS_REST_URL: inject<string>('redisRestUrl'),
                UPSTASH_REDIS_REST_TOKEN: inject<string>('redisRestToken'),
                JWT_SIGNING_KEYS: inject<string>('jwtSigningKeys'),
                ENCRYPTION_KEY: inject<string>('encryptionKey'),
                PUBLIC_URL: inject<string>('publicUrl'),
                OIDC_ISSUER: inject<string>('oidcIssuer'),
                OIDC_CLIENT_ID: inject<string>('oidcClientId'),
                OIDC_CLIENT_SECRET: inject<string>('oidcClientSecret'),
                GITHUB_CLIENT_ID: inject<string>('githubClientId'),
                GITHUB_CLIENT_SECRET: inject<string>('githubClientSecret'),
                GITHUB_OAUTH_BASE_URL: inject<string>('githubOAuthBaseUrl'),
                GITHUB_API_BASE_URL: inject<string>('githubApiBaseUrl'),
              },
              queueConsumers,
            },
          })),
        ],
        test: {
          name: 'workers',
          include: ['test/workers/**/*.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
