import { z } from 'zod';
import type { OutboundUrlPolicy } from '../core/outbound-url';
import { fieldErrors } from './errors';

const optionalString = z
  .string()
  .optional()
  .transform((value) => value || undefined);

export const DEFAULT_RUNNER_OFFLINE_NOTICE_SECONDS = 60;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

// Identity-provider endpoints must be https; plain http only reaches a provider on this machine
// (the local stack and the tests), never one across a network.
const providerUrl = optionalString.pipe(
  z
    .url()
    .refine(
      (url) => {
        const { protocol, hostname } = new URL(url);
        return protocol === 'https:' || (protocol === 'http:' && LOOPBACK_HOSTS.has(hostname));
      },
      { message: 'must be an https:// URL (http:// only for a loopback host)' },
    )
    .optional(),
);

const ConfigSchema = z
  .object({
    DATABASE_URL: z
      .string({ error: 'DATABASE_URL is not set' })
      .regex(/^postgres(ql)?:\/\//, 'DATABASE_URL must be a postgres:// URL'),
    NEON_WS_PROXY: optionalString,
    // "password" when the proxy's server takes a cleartext password (the local stack's embedded
    // cluster): the driver then sends it with the startup and its first query with them.
    NEON_PIPELINE_CONNECT: optionalString.pipe(z.literal('password').optional()),
    UPSTASH_REDIS_REST_URL: optionalString.pipe(z.url().optional()),
    UPSTASH_REDIS_REST_TOKEN: optionalString,
    LOG_LEVEL: optionalString,
    // The Prometheus endpoint's bearer token: long enough not to be guessed by a scan.
    METRICS_TOKEN: optionalString.pipe(
      z.string().min(16, 'METRICS_TOKEN must be at least 16 characters').optional(),
    ),
    // Production unless the local stack or the tests say otherwise: a deployment that forgets
    // to set it never serves development routes or keeps mail in a readable bucket.
    APP_ENV: z.enum(['production', 'development']).default('production'),
    PUBLIC_URL: z.url({ error: 'PUBLIC_URL must be the URL the platform is reached at' }),
    HOSTING_DOMAIN: z
      .string({ error: 'HOSTING_DOMAIN must be the domain deployments are served under' })
      .min(1, 'HOSTING_DOMAIN must be the domain deployments are served under'),
    RESEND_API_KEY: optionalString,
    RESEND_BASE_URL: optionalString.pipe(z.url().optional()),
    MAIL_FROM: optionalString,
    JWT_SIGNING_KEYS: z
      .string({ error: 'JWT_SIGNING_KEYS is not set' })
      .min(2, 'JWT_SIGNING_KEYS is not set'),
    ENCRYPTION_KEY: z
      .string({ error: 'ENCRYPTION_KEY is not set' })
      .regex(/^[A-Za-z0-9_-]{43}=?$/, 'ENCRYPTION_KEY must be 32 bytes, base64url-encoded'),
    OIDC_ISSUER: providerUrl,
    OIDC_CLIENT_ID: optionalString,
    OIDC_CLIENT_SECRET: optionalString,
    GITHUB_CLIENT_ID: optionalString,
    GITHUB_CLIENT_SECRET: optionalString,
    GITHUB_OAUTH_BASE_URL: providerUrl,
    GITHUB_API_BASE_URL: providerUrl,
    // The DNS-over-HTTPS (JSON API) resolver that custom-domain verification asks; a public one
    // when unset (the tests and the local stack point it at a local double).
    DNS_OVER_HTTPS_URL: providerUrl,
    // Where pipeline spans are exported over OTLP/HTTP (JSON); no export when both are empty.
    OTEL_EXPORTER_OTLP_ENDPOINT: optionalString.pipe(z.url().optional()),
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: optionalString.pipe(z.url().optional()),
    // `key=value,key2=value2` (values percent-encoded), e.g. a collector's API key.
    OTEL_EXPORTER_OTLP_HEADERS: optionalString,
    OTEL_SERVICE_NAME: optionalString,
    // How long a runner must stay disconnected before `runner.offline` is notified: a restart or
    // a network blip within it notifies nobody.
    RUNNER_OFFLINE_NOTICE_SECONDS: optionalString
      .transform((value) =>
        value === undefined ? DEFAULT_RUNNER_OFFLINE_NOTICE_SECONDS : Number(value),
      )
      .pipe(
        z
          .number({ error: 'RUNNER_OFFLINE_NOTICE_SECONDS must be a whole number of seconds' })
          .int('RUNNER_OFFLINE_NOTICE_SECONDS must be a whole number of seconds')
          .min(0, 'RUNNER_OFFLINE_NOTICE_SECONDS must be 0 to 3600')
          .max(3600, 'RUNNER_OFFLINE_NOTICE_SECONDS must be 0 to 3600'),
      ),
  })
  .refine((c) => Boolean(c.UPSTASH_REDIS_REST_URL) === Boolean(c.UPSTASH_REDIS_REST_TOKEN), {
    message: 'UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN must be set together',
    path: ['UPSTASH_REDIS_REST_TOKEN'],
  })
  .refine(
    (c) =>
      new Set([Boolean(c.OIDC_ISSUER), Boolean(c.OIDC_CLIENT_ID), Boolean(c.OIDC_CLIENT_SECRET)])
        .size === 1,
    {
      message: 'OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET must be set together',
      path: ['OIDC_ISSUER'],
    },
  )
  .refine((c) => c.APP_ENV !== 'production' || Boolean(c.RESEND_API_KEY), {
    message: 'production sends mail through Resend: set the RESEND_API_KEY secret',
    path: ['RESEND_API_KEY'],
  })
  .refine((c) => Boolean(c.RESEND_API_KEY) === Boolean(c.MAIL_FROM), {
    message:
      'MAIL_FROM (the sender address, on a domain verified at Resend) goes with RESEND_API_KEY',
    path: ['MAIL_FROM'],
  })
  .refine((c) => Boolean(c.GITHUB_CLIENT_ID) === Boolean(c.GITHUB_CLIENT_SECRET), {
    message: 'GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET must be set together',
    path: ['GITHUB_CLIENT_SECRET'],
  });

export type Config = z.infer<typeof ConfigSchema>;

/** Which URLs users give may be called (core/outbound-url.ts): the local stack and tests add loopback. */
export function outboundPolicy(config: Pick<Config, 'APP_ENV'>): OutboundUrlPolicy {
  return { development: config.APP_ENV === 'development' };
}

export type ConfigResult =
  | { ok: true; config: Config }
  | { ok: false; fields: ReturnType<typeof fieldErrors> };

/** Vars and secrets checked at the door, so a missing one is named instead of failing deep inside. */
export function parseConfig(env: Record<string, unknown>): ConfigResult {
  const result = ConfigSchema.safeParse(env);
  return result.success
    ? { ok: true, config: result.data }
    : { ok: false, fields: fieldErrors(result.error.issues) };
}
