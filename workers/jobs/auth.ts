import { and, eq } from 'drizzle-orm';
import type { Context } from 'hono';
import { builds, projects } from '../../db/schema';
import { ApiError } from '../../platform/errors';
import { signingKeys } from '../../platform/tokens/access-tokens';
import { type JobClaims, verifyJobToken } from '../../platform/tokens/job-tokens';
import { bearerToken } from '../bearer';
import type { HonoEnv } from '../context';

function refused(message = 'A valid job token for this build is required'): ApiError {
  return new ApiError('unauthorized', message);
}

export interface JobGrant {
  claims: JobClaims;
  build: typeof builds.$inferSelect;
  project: typeof projects.$inferSelect;
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
  const [row] = await db()
    .select({ build: builds, project: projects })
    .from(builds)
    .innerJoin(projects, eq(projects.id, builds.projectId))
    .where(
      and(
        eq(builds.id, buildId),
        eq(builds.runnerId, claims.runnerId),
        eq(builds.attempt, claims.attempt),
      ),
    );
  const live = row?.build.status === 'running';
  const ended =
    row !== undefined &&
    ['succeeded', 'failed', 'canceled', 'timed_out'].includes(row.build.status);
  if (!row || !(live || (finished && ended))) {
    throw refused('This job token no longer holds the lease for the build');
  }
  return { claims, ...row };
}
