import type { Database } from '../db/client';
import { auditLogs } from '../db/schema';

export type AuditExecutor = Pick<Database, 'insert'>;

export interface AuditEntry {
  action: string;
  workspaceId?: string | null;
  actorRole?: string | null;
  targetType?: string;
  targetId?: string;
  result?: 'success' | 'failure' | 'denied';
  metadata?: Record<string, unknown>;
  /** For actions whose actor is not the request's principal yet (signup, login). */
  actorId?: string | null;
}

/** Who asked for a change, from where and in which request, as the adapter that ran it knows. */
export interface AuditOrigin {
  actorId: string | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string;
}

/**
 * Writes the audit row of a change, in the transaction of that change so neither exists without
 * the other. A use case says what happened; the adapter that calls it fills in who asked, from
 * where, and in which request.
 */
export type Audit = (tx: AuditExecutor, entry: AuditEntry) => Promise<void>;

/** The row an `Audit` writes: the entry, and its origin unless the entry names its own actor. */
export async function writeAudit(tx: AuditExecutor, origin: AuditOrigin, entry: AuditEntry) {
  await tx.insert(auditLogs).values({
    action: entry.action,
    workspaceId: entry.workspaceId ?? null,
    actorId: entry.actorId !== undefined ? entry.actorId : origin.actorId,
    actorRole: entry.actorRole ?? null,
    targetType: entry.targetType,
    targetId: entry.targetId,
    result: entry.result ?? 'success',
    ip: origin.ip,
    userAgent: origin.userAgent,
    requestId: origin.requestId,
    metadata: entry.metadata ?? {},
  });
}
