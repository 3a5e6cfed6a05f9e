import { index, inet, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { createdAt, id } from './columns';
import { auditResult } from './enums';
import { users } from './users';
import { workspaces } from './workspaces';

// Rows outlive the workspace or user they name: references are nulled, never cascaded.
export const auditLogs = pgTable(
  'audit_logs',
  {
    ...id,
    workspaceId: uuid('workspace_id').references(() => workspaces.id, { onDelete: 'set null' }),
    actorId: uuid('actor_id').references(() => users.id, { onDelete: 'set null' }),
    actorRole: text('actor_role'),
    action: text('action').notNull(),
    targetType: text('target_type'),
    targetId: text('target_id'),
    result: auditResult('result').notNull(),
    ip: inet('ip'),
    userAgent: text('user_agent'),
    requestId: text('request_id'),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    ...createdAt,
  },
  // NULLS FIRST is what a plain `order by created_at desc` asks for; drizzle's desc() index
  // default (NULLS LAST) would not serve that query.
  (t) => [
    index('audit_logs_workspace_id_created_at_idx').on(
      t.workspaceId,
      t.createdAt.desc().nullsFirst(),
    ),
    index('audit_logs_actor_id_created_at_idx').on(t.actorId, t.createdAt.desc().nullsFirst()),
  ],
);

export type AuditLog = typeof auditLogs.$inferSelect;
export type NewAuditLog = typeof auditLogs.$inferInsert;
