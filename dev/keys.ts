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
