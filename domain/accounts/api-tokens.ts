import { and, desc, eq, isNull } from 'drizzle-orm';
import { sha256Hex } from '../../core/digest';
import type { TokenScope } from '../../core/roles';
import type { Database } from '../../db/client';
import { apiTokens, workspaces } from '../../db/schema';
import type { Audit } from '../audit';

export type ApiTokenRow = typeof apiTokens.$inferSelect;

/** A personal access token stored under the hash of `secret`, with its workspace's slug. */
export function createApiToken(
  db: Database,
  token: {
    userId: string;
    workspaceId: string;
    name: string;
    prefix: string;
    secret: string;
    scope: TokenScope;
    expiresAt: Date;
  },
  audit: Audit,
) {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(apiTokens)
      .values({
        userId: token.userId,
        workspaceId: token.workspaceId,
        name: token.name,
        prefix: token.prefix,
        tokenHash: await sha256Hex(token.secret),
        scopes: [token.scope],
        expiresAt: token.expiresAt,
      })
      .returning();
    const [workspace] = await tx
      .select({ slug: workspaces.slug })
      .from(workspaces)
      .where(eq(workspaces.id, token.workspaceId));
    await audit(tx, {
      action: 'api_token.created',
      targetType: 'api_token',
      targetId: row!.id,
      metadata: { name: token.name, scope: token.scope, prefix: row!.prefix },
    });
    return { token: row!, slug: workspace!.slug };
  });
}

/** A user's tokens with their workspaces' slugs, newest first. */
export function apiTokensOf(db: Database, userId: string) {
  return db
    .select({ token: apiTokens, slug: workspaces.slug })
    .from(apiTokens)
    .innerJoin(workspaces, eq(workspaces.id, apiTokens.workspaceId))
    .where(eq(apiTokens.userId, userId))
    .orderBy(desc(apiTokens.createdAt));
}

/** Whether a live token of the user was revoked. */
export function revokeApiToken(db: Database, userId: string, id: string, audit: Audit) {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(apiTokens)
      .set({ revokedAt: new Date() })
      .where(and(eq(apiTokens.id, id), eq(apiTokens.userId, userId), isNull(apiTokens.revokedAt)))
      .returning({ workspaceId: apiTokens.workspaceId, prefix: apiTokens.prefix });
    if (!row) return false;
    await audit(tx, {
      action: 'api_token.revoked',
      workspaceId: row.workspaceId,
      targetType: 'api_token',
      targetId: id,
      metadata: { prefix: row.prefix },
    });
    return true;
  });
}
