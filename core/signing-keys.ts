import { exportJWK, generateKeyPair, type JWK } from 'jose';

export const ACCESS_TOKEN_ALG = 'ES256';

/** A private ES256 JWK with its `kid`; JWT_SIGNING_KEYS holds a JSON array of these. */
export async function generateSigningKey(kid = crypto.randomUUID()): Promise<JWK> {
  const { privateKey } = await generateKeyPair(ACCESS_TOKEN_ALG, { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg: ACCESS_TOKEN_ALG, use: 'sig' };
}
