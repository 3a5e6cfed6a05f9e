import { decryptSecret } from '../../core/secret-box';
import type { Environment } from '../../db/schema';

/** The stored credentials of an environment, decrypted (server-side use only). */
export async function environmentCredentials(
  key: string,
  row: Pick<Environment, 'credentialsEncrypted'>,
): Promise<Record<string, string>> {
  if (!row.credentialsEncrypted) return {};
  return JSON.parse(await decryptSecret(key, row.credentialsEncrypted)) as Record<string, string>;
}
