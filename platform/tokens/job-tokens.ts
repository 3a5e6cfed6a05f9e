import { jwtVerify, SignJWT } from 'jose';
import { ACCESS_TOKEN_ALG } from '../../core/signing-keys';
import type { SigningKeys } from './access-tokens';

export const JOB_TOKEN_AUDIENCE = 'sparki-job';
const JOB_TOKEN_TYPE = 'job+jwt';

export interface JobClaims {
  buildId: string;
  runnerId: string;
  attempt: number;
}

/**
 * The credential for one attempt of one build, handed to the runner with the offer. It lives as
 * long as the build may run; the job API also checks Postgres, so it dies with its lease.
 */
export async function signJobToken(
  keys: SigningKeys,
  issuer: string,
  claims: JobClaims,
  ttlSeconds: number,
): Promise<string> {
  return new SignJWT({ runner_id: claims.runnerId, attempt: claims.attempt })
    .setProtectedHeader({ alg: ACCESS_TOKEN_ALG, kid: keys.kid, typ: JOB_TOKEN_TYPE })
    .setIssuer(issuer)
    .setAudience(JOB_TOKEN_AUDIENCE)
    .setSubject(claims.buildId)
    .setIssuedAt()
    .setExpirationTime(`${Math.ceil(ttlSeconds)}s`)
    .setJti(crypto.randomUUID())
    .sign(keys.privateKey);
}

/** Signature, type, issuer, audience and expiry only: the caller checks the lease in Postgres. */
export async function verifyJobToken(
  keys: SigningKeys,
  issuer: string,
  token: string,
): Promise<JobClaims> {
  const { payload } = await jwtVerify(token, keys.verifier, {
    issuer,
    audience: JOB_TOKEN_AUDIENCE,
    algorithms: [ACCESS_TOKEN_ALG],
    typ: JOB_TOKEN_TYPE,
  });
  const { sub, runner_id: runnerId, attempt } = payload;
  if (
    typeof sub !== 'string' ||
    typeof runnerId !== 'string' ||
    typeof attempt !== 'number' ||
    !Number.isInteger(attempt)
  ) {
    throw new Error('Job token lacks build, runner or attempt');
  }
  return { buildId: sub, runnerId, attempt };
}
