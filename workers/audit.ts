import type { Context } from 'hono';
import type { Database } from '../db/client';
import { auditLogs } from '../db/schema';
import type { HonoEnv } from './context';

type Executor = Pick<Database, 'insert'>;

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

/** Call inside the transaction of the change it records, so neither exists without the other. */
export async function recordAudit(tx: Executor, c: Context<HonoEnv>, entry: AuditEntry) {
  const principal = c.get('principal');
  await tx.insert(auditLogs).values({
    action: entry.action,
    workspaceId: entry.workspaceId ?? null,
    actorId: entry.actorId !== undefined ? entry.actorId : (principal?.userId ?? null),
    actorRole: entry.actorRole ?? null,
    targetType: entry.targetType,
    targetId: entry.targetId,
    result: entry.result ?? 'success',
    ip: c.req.header('cf-connecting-ip') ?? null,
    userAgent: c.req.header('user-agent') ?? null,
    requestId: c.get('requestId'),
    metadata: entry.metadata ?? {},
  });
}
