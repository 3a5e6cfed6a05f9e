import type { Database } from '../../db/client';
import { type Build, builds } from '../../db/schema';
import { lockProject, nextBuildNumber } from './create';

/**
 * A build made of output uploaded by a person (`sparki deploy --prebuilt`): no runner ran it, so
 * it is written succeeded, with its output manifest already committed at `outputManifestKey`.
 */
export async function recordUploadedBuild(
  db: Database,
  input: {
    id: string;
    projectId: string;
    branch: string;
    commitSha: string | null;
    commitMessage: string | null;
    target: Build['target'];
    outputManifestKey: string;
  },
): Promise<Build> {
  return db.transaction(async (tx) => {
    const project = await lockProject(tx, input.projectId);
    if (!project) throw new Error(`Project ${input.projectId} does not exist`);
    const now = new Date();
    const [build] = await tx
      .insert(builds)
      .values({
        ...input,
        number: await nextBuildNumber(tx, input.projectId),
        trigger: 'api',
        status: 'succeeded',
        startedAt: now,
        finishedAt: now,
      })
      .returning();
    if (!build) throw new Error('Build insert returned nothing');
    return build;
  });
}
