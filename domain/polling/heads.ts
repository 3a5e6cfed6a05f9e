import { and, asc, eq, isNotNull, isNull, notInArray, or } from 'drizzle-orm';
import { sha256Hex } from '../../core/digest';
import { ProjectSettingsSchema } from '../../core/project-settings';
import { type BranchHead, diffHeads, pollInterval } from '../../core/repo-polling';
import type { GitEvent } from '../../core/webhooks/events';
import type { Database, Transaction } from '../../db/client';
import { builds, type Project, polledHeads, projects } from '../../db/schema';
import type { Audit } from '../audit';
import { type CreatedBuild, lockProject } from '../builds/create';
import { FINISHED_STATUSES } from '../builds/statuses';
import type { RetiredDeployment } from '../deployments/retire';
import { applyDelivery, polledDeliveryId } from '../webhooks/deliveries';
import { planDelivery } from '../webhooks/plan';

export interface PolledProject {
  id: string;
  repoUrl: string;
  intervalSeconds: number;
}

type PollableRow = Pick<Project, 'id' | 'repoUrl' | 'gitProvider' | 'settings'>;

/** The project's polling interval in seconds, or null when its heads are not polled. */
export function projectPollInterval(project: PollableRow): number | null {
  const settings = ProjectSettingsSchema.safeParse(project.settings ?? {});
  return pollInterval({
    repoUrl: project.repoUrl,
    gitProvider: project.gitProvider,
    pollIntervalSeconds: settings.success ? settings.data.poll_interval_seconds : undefined,
  });
}

/** The workspace's projects whose branch heads a runner polls, oldest first. */
export async function polledProjects(db: Database, workspaceId: string): Promise<PolledProject[]> {
  const rows = await db
    .select({
      id: projects.id,
      repoUrl: projects.repoUrl,
      gitProvider: projects.gitProvider,
      settings: projects.settings,
    })
    .from(projects)
    .where(and(eq(projects.workspaceId, workspaceId), isNotNull(projects.repoUrl)))
    .orderBy(asc(projects.createdAt));
  return rows.flatMap((row) => {
    const intervalSeconds = projectPollInterval(row);
    return intervalSeconds && row.repoUrl
      ? [{ id: row.id, repoUrl: row.repoUrl, intervalSeconds }]
      : [];
  });
}

export interface HeadsOutcome {
  created: CreatedBuild[];
  retired: RetiredDeployment[];
  /** Branches whose deletion was recorded. */
  deleted: number;
  /** The first report of the project: its heads were recorded as they are. */
  baseline: boolean;
}

/** A head reported as if a webhook had delivered it: the same dedupe, plan and records. */
async function deliver(
  tx: Transaction,
  project: Project,
  event: GitEvent & { kind: 'push' | 'branch_deleted' },
  sha: string,
  audit: Audit,
) {
  const kind = event.kind === 'push' ? 'push' : 'delete';
  const id = polledDeliveryId(kind, event.branch, sha);
  return applyDelivery(
    tx,
    project,
    { provider: 'poll', id, event: kind, payloadSha256: await sha256Hex(id) },
    planDelivery(event, project),
    undefined,
    audit,
  );
}

/**
 * Records a runner's report of all of a polled project's branch heads against the ones last
 * reported: a new or moved head is a push (a build), a branch that is gone is a deleted branch
 * (its previews retire), each recorded in webhook_deliveries as provider `poll` under
 * `push:<branch>:<sha>` or `delete:<branch>:<sha>`, so the same head is never built twice; a
 * head the branch has a build of already (a webhook's, a manual one) is not built either.
 * The first report is a baseline: only the production branch's head is built, unless a build
 * of that commit exists already or one of the branch's head is under way (`headBuilt`).
 */
export function recordHeads(
  db: Database,
  project: Project,
  heads: BranchHead[],
  audit: Audit,
): Promise<HeadsOutcome> {
  return db.transaction(async (tx) => {
    await lockProject(tx, project.id);
    const stored = await tx
      .select({ branch: polledHeads.branch, sha: polledHeads.sha })
      .from(polledHeads)
      .where(eq(polledHeads.projectId, project.id));
    const outcome: HeadsOutcome = {
      created: [],
      retired: [],
      deleted: 0,
      baseline: stored.length === 0,
    };
    const repo = { urls: project.repoUrl ? [project.repoUrl] : [] };
    let moved = diffHeads(stored, heads).moved;
    const { deleted } = diffHeads(stored, heads);
    if (outcome.baseline) {
      moved = [];
      const production = heads.find((head) => head.branch === project.productionBranch);
      if (production && !(await headBuilt(tx, project.id, production.branch, production.sha))) {
        moved = [production];
      }
    }
    for (const head of moved) {
      // Built already from another source (a webhook, by hand): not again.
      if (!outcome.baseline && (await branchBuiltAt(tx, project.id, head))) continue;
      const result = await deliver(
        tx,
        project,
        {
          kind: 'push',
          repo,
          branch: head.branch,
          sha: head.sha,
          message: null,
          committedAt: null,
        },
        head.sha,
        audit,
      );
      if (!result.duplicate && result.created) outcome.created.push(result.created);
    }
    for (const head of deleted) {
      const result = await deliver(
        tx,
        project,
        { kind: 'branch_deleted', repo, branch: head.branch },
        head.sha,
        audit,
      );
      if (!result.duplicate) {
        outcome.deleted++;
        outcome.retired.push(...result.retired);
      }
    }
    await tx.delete(polledHeads).where(eq(polledHeads.projectId, project.id));
    if (heads.length > 0) {
      await tx
        .insert(polledHeads)
        .values(heads.map((head) => ({ projectId: project.id, ...head })));
    }
    return outcome;
  });
}

/**
 * A build of this commit exists, or one of the branch's head still unfinished (its commit is not
 * known until the runner checks it out): the baseline leaves the branch to it.
 */
async function headBuilt(
  tx: Transaction,
  projectId: string,
  branch: string,
  sha: string,
): Promise<boolean> {
  const [row] = await tx
    .select({ id: builds.id })
    .from(builds)
    .where(
      and(
        eq(builds.projectId, projectId),
        or(
          eq(builds.commitSha, sha),
          and(
            eq(builds.branch, branch),
            isNull(builds.commitSha),
            notInArray(builds.status, [...FINISHED_STATUSES]),
          ),
        ),
      ),
    )
    .limit(1);
  return row !== undefined;
}

async function branchBuiltAt(tx: Transaction, projectId: string, head: BranchHead) {
  const [row] = await tx
    .select({ id: builds.id })
    .from(builds)
    .where(
      and(
        eq(builds.projectId, projectId),
        eq(builds.branch, head.branch),
        eq(builds.commitSha, head.sha),
      ),
    )
    .limit(1);
  return row !== undefined;
}

/** The project, if it is in this workspace. */
export async function workspaceProject(
  db: Database,
  workspaceId: string,
  projectId: string,
): Promise<Project | undefined> {
  const [row] = await db
    .select()
    .from(projects)
    .where(and(eq(projects.id, projectId), eq(projects.workspaceId, workspaceId)));
  return row;
}
