import type { Context } from 'hono';
import { type HeldJob, heldJob } from '../../domain/builds/jobs';
import { ApiError } from '../../platform/errors';
import { signingKeys } from '../../platform/tokens/access-tokens';
import { type JobClaims, verifyJobToken } from '../../platform/tokens/job-tokens';
import { bearerToken } from '../bearer';
import type { HonoEnv } from '../context';

function refused(message = 'A valid job token for this build is required'): ApiError {
  return new ApiError('unauthorized', message);
}

export interface JobGrant extends HeldJob {
  claims: JobClaims;
}

/**
 * The job API's gate: a job token for this build, whose attempt is the build's current one on
 * the same runner. A runner whose lease was lost (and the job offered again) is refused even
 * though its token has not expired. `finished` also admits a build this attempt already ended,
 * so that a repeated completion gets an answer instead of a 401.
 */
export async function authorizeJob(
  c: Context<HonoEnv>,
  buildId: string,
  { finished = false } = {},
): Promise<JobGrant> {
  const token = bearerToken(c);
  if (!token) throw refused();
  const { config, db } = c.get('services');
  const claims = await verifyJobToken(
    await signingKeys(config.JWT_SIGNING_KEYS),
    config.PUBLIC_URL,
    token,
  ).catch(() => {
    throw refused('Invalid or expired job token');
  });
  if (claims.buildId !== buildId) throw refused();
  const job = await heldJob(db(), claims, { finished });
  if (!job) throw refused('This job token no longer holds the lease for the build');
  return { claims, ...job };
}
