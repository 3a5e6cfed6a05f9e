import { and, desc, eq, gt, isNull, or } from 'drizzle-orm';
import { sha256Hex } from '../../core/digest';
import { TOKEN_SCOPES, type TokenScope } from '../../core/roles';
import type { Database } from '../../db/client';
import { apiTokens, workspaces } from '../../db/schema';
import type { Audit } from '../audit';

export type ApiTokenRow = typeof apiTokens.$inferSelect;

/** A personal access token, acting for its user in its one workspace. */
export interface TokenCredential {
  kind: 'token';
  userId: string;
  tokenId: string;
  workspaceId: string;
  scope: TokenScope;
}

function isLive(now: Date) {
  return and(
    isNull(apiTokens.revokedAt),
    or(isNull(apiTokens.expiresAt), gt(apiTokens.expiresAt, now)),
  );
}

function credentialOf(row: ApiTokenRow | undefined): TokenCredential | null {
  const scope = TOKEN_SCOPES.find((s) => row?.scopes.includes(s));
  if (!row || !scope) return null;
  return {
    kind: 'token',
    userId: row.userId,
    tokenId: row.id,
    workspaceId: row.workspaceId,
    scope,
  };
}

/** The live token whose secret this is, marked as used now; null if unknown, revoked or expired. */
export async function useApiToken(db: Database, secret: string): Promise<TokenCredential | null> {
  const now = new Date();
  const [row] = await db
    .update(apiTokens)
    .set({ lastUsedAt: now })
    .where(and(eq(apiTokens.tokenHash, await sha256Hex(secret)), isLive(now)))
    .returning();
  return credentialOf(row);
}

/** Token `id`, while it is neither revoked nor expired. */
export async function liveApiToken(db: Database, id: string): Promise<TokenCredential | null> {
  const [row] = await db
    .select()
    .from(apiTokens)
    .where(and(eq(apiTokens.id, id), isLive(new Date())));
  return credentialOf(row);
}

export interface NewApiTokenInput {
  userId: string;
  workspaceId: string;
  name: string;
  prefix: string;
  secret: string;
  scope: TokenScope;
  expiresAt: Date;
}

/** The row of a new token, stored under the hash of its secret, inside the caller's transaction. */
export async function insertApiToken(tx: Pick<Database, 'insert'>, token: NewApiTokenInput) {
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
  return row!;
}

/** A personal access token stored under the hash of `secret`, with its workspace's slug. */
export function createApiToken(db: Database, token: NewApiTokenInput, audit: Audit) {
  return db.transaction(async (tx) => {
    const row = await insertApiToken(tx, token);
    const [workspace] = await tx
      .select({ slug: workspaces.slug })
      .from(workspaces)
      .where(eq(workspaces.id, token.workspaceId));
    await audit(tx, {
      action: 'api_token.created',
      targetType: 'api_token',
      targetId: row.id,
      metadata: { name: token.name, scope: token.scope, prefix: row.prefix },
    });
    return { token: row, slug: workspace!.slug };
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
