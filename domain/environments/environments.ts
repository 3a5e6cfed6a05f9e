import { and, asc, eq, sql } from 'drizzle-orm';
import { MAX_ENV_VARS } from '../../core/project-settings';
import type { Database } from '../../db/client';
import { type EnvVarValue, environments } from '../../db/schema';
import type { Audit } from '../audit';

export type EnvironmentRow = typeof environments.$inferSelect;

/** A project's environments by name. */
export function environmentsOf(db: Database, projectId: string) {
  return db
    .select()
    .from(environments)
    .where(eq(environments.projectId, projectId))
    .orderBy(asc(environments.name));
}

export async function findEnvironment(
  db: Database,
  id: string,
): Promise<EnvironmentRow | undefined> {
  const [row] = await db.select().from(environments).where(eq(environments.id, id));
  return row;
}

/** The project's environment of a kind (its production or its preview environment). */
export async function environmentOfKind(
  db: Database,
  projectId: string,
  kind: EnvironmentRow['kind'],
): Promise<EnvironmentRow | undefined> {
  const [row] = await db
    .select()
    .from(environments)
    .where(and(eq(environments.projectId, projectId), eq(environments.kind, kind)));
  return row;
}

/**
 * Sets one variable of the project's environment named `environment`: `missing` without such an
 * environment, `full` when a new name would pass MAX_ENV_VARS.
 */
export function setVariable(
  db: Database,
  target: { projectId: string; environment: string; name: string },
  stored: EnvVarValue,
  audit: Audit,
) {
  return db.transaction(async (tx) => {
    // Locked, so two writers to one environment cannot drop each other's variable.
    const [row] = await tx
      .select({ id: environments.id, envVars: environments.envVars })
      .from(environments)
      .where(
        and(
          eq(environments.projectId, target.projectId),
          eq(environments.name, target.environment),
        ),
      )
      .for('update');
    if (!row) return 'missing' as const;
    const exists = Object.hasOwn(row.envVars, target.name);
    if (!exists && Object.keys(row.envVars).length >= MAX_ENV_VARS) return 'full' as const;
    await tx
      .update(environments)
      .set({ envVars: { ...row.envVars, [target.name]: stored } })
      .where(eq(environments.id, row.id));
    await audit(tx, {
      action: 'env_var.set',
      targetType: 'environment',
      targetId: row.id,
      metadata: {
        environment: target.environment,
        name: target.name,
        secret: stored.secret,
        created: !exists,
      },
    });
    return 'set' as const;
  });
}

/** Whether the variable existed in the project's environment named `environment`, now deleted. */
export function deleteVariable(
  db: Database,
  target: { projectId: string; environment: string; name: string },
  audit: Audit,
) {
  const { projectId, environment, name } = target;
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(environments)
      .set({ envVars: sql`${environments.envVars} - ${name}::text` })
      .where(
        and(
          eq(environments.projectId, projectId),
          eq(environments.name, environment),
          sql`${environments.envVars} ? ${name}`,
        ),
      )
      .returning({ id: environments.id });
    if (!row) return false;
    await audit(tx, {
      action: 'env_var.deleted',
      targetType: 'environment',
      targetId: row.id,
      metadata: { environment, name },
    });
    return true;
  });
}

export type DeploySettingsChange = Pick<
  EnvironmentRow,
  'deployTarget' | 'strategy' | 'autoDeploy' | 'deployConfig' | 'credentialsEncrypted'
>;

/** Writes where and how the environment deploys; `metadata` says what changed, for the audit. */
export function updateDeploySettings(
  db: Database,
  id: string,
  change: DeploySettingsChange,
  metadata: Record<string, unknown>,
  audit: Audit,
) {
  return db.transaction(async (tx) => {
    const [next] = await tx
      .update(environments)
      .set(change)
      .where(eq(environments.id, id))
      .returning();
    await audit(tx, {
      action: 'environment.deploy_settings_updated',
      targetType: 'environment',
      targetId: id,
      metadata,
    });
    return next!;
  });
}
