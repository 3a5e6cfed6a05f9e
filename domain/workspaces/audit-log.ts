import { and, desc, eq, gte, lt, type SQL, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { type AuditLog, auditLogs, users } from '../../db/schema';

export interface AuditFilter {
  action?: string | undefined;
  actorId?: string | undefined;
  targetType?: string | undefined;
  targetId?: string | undefined;
  result?: AuditLog['result'] | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
}

/**
 * Where the previous page ended. `at` is Postgres' own text form of created_at: a JS Date would
 * round microseconds away and skip rows that share the millisecond.
 */
export interface AuditCursor {
  at: string;
  id: string;
}

/**
 * A page of a workspace's audit log, newest first, with each actor's email, and the cursor of the
 * next page (null on the last).
 */
export async function auditPage(
  db: Database,
  workspaceId: string,
  filter: AuditFilter,
  after: AuditCursor | undefined,
  limit: number,
) {
  const filters: (SQL | undefined)[] = [
    eq(auditLogs.workspaceId, workspaceId),
    filter.action ? eq(auditLogs.action, filter.action) : undefined,
    filter.actorId ? eq(auditLogs.actorId, filter.actorId) : undefined,
    filter.targetType ? eq(auditLogs.targetType, filter.targetType) : undefined,
    filter.targetId ? eq(auditLogs.targetId, filter.targetId) : undefined,
    filter.result ? eq(auditLogs.result, filter.result) : undefined,
    filter.since ? gte(auditLogs.createdAt, filter.since) : undefined,
    filter.until ? lt(auditLogs.createdAt, filter.until) : undefined,
  ];
  if (after) {
    filters.push(
      sql`(${auditLogs.createdAt}, ${auditLogs.id}) < (${after.at}::timestamptz, ${after.id}::uuid)`,
    );
  }
  const rows = await db
    .select({
      entry: auditLogs,
      actorEmail: users.email,
      at: sql<string>`${auditLogs.createdAt}::text`,
    })
    .from(auditLogs)
    .leftJoin(users, eq(users.id, auditLogs.actorId))
    .where(and(...filters))
    .orderBy(desc(auditLogs.createdAt), desc(auditLogs.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const next: AuditCursor | null =
    rows.length > limit && last ? { at: last.at, id: last.entry.id } : null;
  return { entries: page, next };
}
