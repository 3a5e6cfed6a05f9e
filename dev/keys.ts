import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { generateEncryptionKey } from '../core/secret-box';
import { generateSigningKey } from '../core/signing-keys';

export interface PlatformKeys {
  JWT_SIGNING_KEYS: string;
  ENCRYPTION_KEY: string;
}

export async function generatePlatformKeys(): Promise<PlatformKeys> {
  return {
    JWT_SIGNING_KEYS: JSON.stringify([await generateSigningKey()]),
    ENCRYPTION_KEY: generateEncryptionKey(),
  };
}

/** Keys kept in the local state dir, so sessions and encrypted values survive restarts. */
export async function loadOrCreatePlatformKeys(file: string): Promise<PlatformKeys> {
  if (existsSync(file)) return JSON.parse(await readFile(file, 'utf8')) as PlatformKeys;
  const keys = await generatePlatformKeys();
  await writeFile(file, JSON.stringify(keys), { mode: 0o600 });
  return keys;
}

/**
 * The local stack's METRICS_TOKEN: `METRICS_TOKEN` when set, else one generated on the first
 * start and kept in `file`, so a local Prometheus keeps scraping across restarts.
 */
export async function loadOrCreateMetricsToken(file: string): Promise<string> {
  if (process.env.METRICS_TOKEN) return process.env.METRICS_TOKEN;
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const token = randomBytes(32).toString('hex');
  await writeFile(file, `${token}\n`, { mode: 0o600 });
  return token;
}
