import { eq } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { memberships, workspaces } from '../../db/schema';
import type { Audit } from '../audit';

export type WorkspaceRow = typeof workspaces.$inferSelect;

/** A new workspace with its creator as owner; undefined when the slug is taken. */
export function createWorkspace(
  db: Database,
  input: { name: string; slug: string },
  ownerId: string,
  audit: Audit,
) {
  return db.transaction(async (tx) => {
    const [workspace] = await tx.insert(workspaces).values(input).onConflictDoNothing().returning();
    if (!workspace) return undefined;
    await tx
      .insert(memberships)
      .values({ workspaceId: workspace.id, userId: ownerId, role: 'owner' });
    await audit(tx, {
      action: 'workspace.created',
      workspaceId: workspace.id,
      actorRole: 'owner',
      targetType: 'workspace',
      targetId: workspace.id,
    });
    return workspace;
  });
}

/** The workspaces a user belongs to, with the user's role in each, by name. */
export function workspacesOf(db: Database, userId: string) {
  return db
    .select({ workspace: workspaces, role: memberships.role })
    .from(memberships)
    .innerJoin(workspaces, eq(workspaces.id, memberships.workspaceId))
    .where(eq(memberships.userId, userId))
    .orderBy(workspaces.name);
}

export async function findWorkspace(db: Database, id: string): Promise<WorkspaceRow | undefined> {
  const [row] = await db.select().from(workspaces).where(eq(workspaces.id, id));
  return row;
}

export function renameWorkspace(db: Database, id: string, name: string, audit: Audit) {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(workspaces)
      .set({ name })
      .where(eq(workspaces.id, id))
      .returning();
    await audit(tx, {
      action: 'workspace.updated',
      targetType: 'workspace',
      targetId: id,
      metadata: { fields: ['name'] },
    });
    return row!;
  });
}
