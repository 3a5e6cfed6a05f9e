import { and, eq, isNull, or, sql } from 'drizzle-orm';
import type { DetectionReport } from '../../core/runner-protocol';
import type { Database } from '../../db/client';
import { type Build, type ProjectDetection, projects } from '../../db/schema';

/**
 * Records what a build detected on its project, unless a newer build (by number) already has: a
 * retry of an old commit, or an attempt that reports late, does not undo the newest build's
 * finding. True when it was recorded.
 */
export async function recordDetection(
  db: Database,
  build: Pick<Build, 'id' | 'number' | 'projectId'>,
  report: DetectionReport,
): Promise<boolean> {
  const detection: ProjectDetection = {
    ...report,
    build_id: build.id,
    build_number: build.number,
    detected_at: new Date().toISOString(),
  };
  const recorded = await db
    .update(projects)
    // updated_at tells when someone changed the project, not when it was last built.
    .set({ framework: report.framework, detection, updatedAt: sql`${projects.updatedAt}` })
    .where(
      and(
        eq(projects.id, build.projectId),
        or(
          isNull(projects.detection),
          sql`(${projects.detection}->>'build_number')::int <= ${build.number}`,
        ),
      ),
    )
    .returning({ id: projects.id });
  return recorded.length > 0;
}
