import { createLocalJWKSet, importJWK, type JWK, type JWTPayload, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import { ACCESS_TOKEN_ALG } from '../../core/signing-keys';

export const ACCESS_TOKEN_TTL_SECONDS = 600;
export const ACCESS_TOKEN_AUDIENCE = 'sparki-api';

const PrivateJwkSchema = z
  .object({
    kty: z.literal('EC'),
    crv: z.literal('P-256'),
    kid: z.string().min(1),
    x: z.string(),
    y: z.string(),
    d: z.string(),
  })
  .loose();

const SigningKeysSchema = z.array(PrivateJwkSchema).min(1);

export interface SigningKeys {
  kid: string;
  privateKey: CryptoKey | Uint8Array;
  /** Every configured key's public half: the active one and any still live during a rotation. */
  publicJwks: JWK[];
  verifier: ReturnType<typeof createLocalJWKSet>;
  /** Tokens these keys verified, by issuer and token: see `verifyAccessToken`. */
  verified: Map<string, AccessClaims>;
}

const cache = new Map<string, Promise<SigningKeys>>();

async function load(json: string): Promise<SigningKeys> {
  const keys = SigningKeysSchema.parse(JSON.parse(json));
  const active = keys[0]!;
  const publicJwks = keys.map(({ d: _private, ...publicPart }) => ({
    ...publicPart,
    alg: ACCESS_TOKEN_ALG,
    use: 'sig',
  }));
  return {
    kid: active.kid,
    privateKey: await importJWK(active, ACCESS_TOKEN_ALG),
    publicJwks,
    verifier: createLocalJWKSet({ keys: publicJwks }),
    verified: new Map(),
  };
}

/** The first key signs; all of them verify. Parsed once per isolate. */
export function signingKeys(json: string): Promise<SigningKeys> {
  let keys = cache.get(json);
  if (!keys) {
    keys = load(json);
    cache.set(json, keys);
  }
  return keys;
}

export interface AccessClaims extends JWTPayload {
  sub: string;
  sid: string;
}

export async function signAccessToken(
  keys: SigningKeys,
  issuer: string,
  claims: { userId: string; sessionId: string },
): Promise<string> {
  return new SignJWT({ sid: claims.sessionId })
    .setProtectedHeader({ alg: ACCESS_TOKEN_ALG, kid: keys.kid, typ: 'at+jwt' })
    .setIssuer(issuer)
    .setAudience(ACCESS_TOKEN_AUDIENCE)
    .setSubject(claims.userId)
    .setIssuedAt()
    .setExpirationTime(`${ACCESS_TOKEN_TTL_SECONDS}s`)
    .setJti(crypto.randomUUID())
    .sign(keys.privateKey);
}

/**
 * How many verified tokens an isolate remembers. A client sends the same access token with every
 * request for its 10 minutes, and checking its ES256 signature was a twentieth of an
 * authenticated read's CPU (docs/benchmarks.md, (c)).
 */
const VERIFIED_MAX = 1000;

/**
 * Rejects other algorithms (incl. `none`), unknown `kid`s, other issuers/audiences and expiry.
 * A token these keys already verified is not checked again until it expires: a signature check's
 * answer for the same bytes cannot change, and expiry is checked at every use. (Whether its
 * session is still live is the caller's check, at every request.)
 */
export async function verifyAccessToken(
  keys: SigningKeys,
  issuer: string,
  token: string,
): Promise<AccessClaims> {
  const key = `${issuer} ${token}`;
  const known = keys.verified.get(key);
  if (known) {
    if (Date.now() < known.exp! * 1000) return known;
    keys.verified.delete(key);
  }
  const { payload } = await jwtVerify(token, keys.verifier, {
    issuer,
    audience: ACCESS_TOKEN_AUDIENCE,
    algorithms: [ACCESS_TOKEN_ALG],
    typ: 'at+jwt',
  });
  if (typeof payload.sub !== 'string' || typeof payload.sid !== 'string') {
    throw new Error('Access token lacks subject or session');
  }
  const claims = payload as AccessClaims;
  // Only tokens that expire are remembered; the oldest remembered is forgotten first.
  if (typeof claims.exp === 'number') {
    if (keys.verified.size >= VERIFIED_MAX)
      keys.verified.delete(keys.verified.keys().next().value!);
    keys.verified.set(key, claims);
  }
  return claims;
}
