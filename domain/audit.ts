import type { Database } from '../db/client';

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

/**
 * Writes the audit row of a change, in the transaction of that change so neither exists without
 * the other. A use case says what happened; the adapter that calls it fills in who asked, from
 * where, and in which request.
 */
export type Audit = (tx: AuditExecutor, entry: AuditEntry) => Promise<void>;
