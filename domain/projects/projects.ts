import { and, eq, sql } from 'drizzle-orm';
import {
  mergeProjectSettings,
  type ProjectSettingsPatch,
  ProjectSettingsSchema,
} from '../../core/project-settings';
import type { Role } from '../../core/roles';
import type { Database } from '../../db/client';
import { preparedSelect } from '../../db/prepared-select';
import { environments, memberships, type Project, polledHeads, projects } from '../../db/schema';
import { ApiError } from '../../platform/errors';
import type { Audit } from '../audit';

/** The columns a project's settings change writes (name, provider, repository, branch, root). */
export type ProjectChanges = Partial<
  Pick<Project, 'name' | 'gitProvider' | 'repoUrl' | 'productionBranch' | 'rootDir'>
>;

/**
 * A new project with its production and preview environments; undefined when the slug is taken
 * in the workspace.
 */
export function createProject(
  db: Database,
  project: ProjectChanges & {
    workspaceId: string;
    slug: string;
    name: string;
    webhookSecretEncrypted: string;
  },
  audit: Audit,
) {
  return db.transaction(async (tx) => {
    const [created] = await tx.insert(projects).values(project).onConflictDoNothing().returning();
    if (!created) return undefined;
    await tx.insert(environments).values([
      { projectId: created.id, name: 'production', kind: 'production' },
      { projectId: created.id, name: 'preview', kind: 'preview' },
    ]);
    await audit(tx, { action: 'project.created', targetType: 'project', targetId: created.id });
    return created;
  });
}

/** A workspace's projects by name. */
export function projectsOf(db: Database, workspaceId: string) {
  return db
    .select()
    .from(projects)
    .where(eq(projects.workspaceId, workspaceId))
    .orderBy(projects.name);
}

export async function findProject(db: Database, id: string): Promise<Project | undefined> {
  const [row] = await db.select().from(projects).where(eq(projects.id, id));
  return row;
}

/** Joins a select from `projects` to the membership of the user in placeholder `userId`. */
export const callerMembership = and(
  eq(memberships.workspaceId, projects.workspaceId),
  eq(memberships.userId, sql.placeholder('userId')),
);

/** Every project-scoped request's authorization runs it, so its SQL is built once. */
const projectWithRole = preparedSelect((db) =>
  db
    .select({ project: projects, role: memberships.role })
    .from(projects)
    .leftJoin(memberships, callerMembership)
    .where(eq(projects.id, sql.placeholder('id'))),
);

/**
 * The project with the role `userId` holds in its workspace (null: none), in one query: what the
 * authorization gate needs, and what a read of the project shows.
 */
export async function projectForMember(
  db: Database,
  id: string,
  userId: string,
): Promise<{ project: Project; role: Role | null } | undefined> {
  const [row] = await projectWithRole(db, { id, userId });
  return row;
}

export function updateProject(
  db: Database,
  id: string,
  changes: ProjectChanges,
  fields: string[],
  audit: Audit,
) {
  return db.transaction(async (tx) => {
    const [row] = await tx.update(projects).set(changes).where(eq(projects.id, id)).returning();
    // Another repository: its heads are polled from a new baseline, not compared with these.
    if (changes.repoUrl !== undefined) {
      await tx.delete(polledHeads).where(eq(polledHeads.projectId, id));
    }
    await audit(tx, {
      action: 'project.updated',
      targetType: 'project',
      targetId: id,
      metadata: { fields },
    });
    return row!;
  });
}

export function deleteProject(db: Database, id: string, workspaceId: string, audit: Audit) {
  return db.transaction(async (tx) => {
    await tx
      .delete(projects)
      .where(and(eq(projects.id, id), eq(projects.workspaceId, workspaceId)));
    await audit(tx, { action: 'project.deleted', targetType: 'project', targetId: id });
  });
}

function projectNotFound() {
  return new ApiError('not_found', 'Project not found');
}

/** The build settings stored on a project (only what was set). */
export async function storedBuildSettings(db: Database, id: string) {
  const [row] = await db
    .select({ settings: projects.settings })
    .from(projects)
    .where(eq(projects.id, id));
  if (!row) throw projectNotFound();
  return ProjectSettingsSchema.parse(row.settings);
}

/** Merges a patch into the stored build settings under the project's row lock. */
export function patchBuildSettings(
  db: Database,
  id: string,
  patch: ProjectSettingsPatch,
  audit: Audit,
) {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .select({ settings: projects.settings })
      .from(projects)
      .where(eq(projects.id, id))
      .for('update');
    if (!row) throw projectNotFound();
    const merged = mergeProjectSettings(ProjectSettingsSchema.parse(row.settings), patch);
    await tx.update(projects).set({ settings: merged }).where(eq(projects.id, id));
    await audit(tx, {
      action: 'project.settings_updated',
      targetType: 'project',
      targetId: id,
      metadata: { fields: Object.keys(patch) },
    });
    return merged;
  });
}

/** The sealed credentials commit statuses are reported with, or null when none are set. */
export async function sealedGitCredentials(db: Database, id: string) {
  const [project] = await db
    .select({ sealed: projects.gitCredentialsEncrypted })
    .from(projects)
    .where(eq(projects.id, id));
  return project?.sealed ?? null;
}

/** Stores (or with null removes) the sealed reporting credentials, audited as `action`. */
export function setGitCredentials(
  db: Database,
  id: string,
  sealed: string | null,
  audit: Audit,
  metadata?: Record<string, unknown>,
) {
  return db.transaction(async (tx) => {
    await tx.update(projects).set({ gitCredentialsEncrypted: sealed }).where(eq(projects.id, id));
    await audit(tx, {
      action: sealed ? 'project.git_reporting_set' : 'project.git_reporting_removed',
      targetType: 'project',
      targetId: id,
      ...(metadata ? { metadata } : {}),
    });
  });
}

/** Replaces the webhook secret (sealed) the project's deliveries are checked with, audited. */
export function replaceWebhookSecret(db: Database, id: string, sealed: string, audit: Audit) {
  return db.transaction(async (tx) => {
    await tx.update(projects).set({ webhookSecretEncrypted: sealed }).where(eq(projects.id, id));
    await audit(tx, {
      action: 'project.webhook_secret_rotated',
      targetType: 'project',
      targetId: id,
    });
  });
}
