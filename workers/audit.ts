import type { Context } from 'hono';
import { auditLogs } from '../db/schema';
import type { Audit, AuditEntry, AuditExecutor } from '../domain/audit';
import type { WorkspaceAccess } from './auth/authorize';
import type { HonoEnv } from './context';

/** Call inside the transaction of the change it records, so neither exists without the other. */
export async function recordAudit(tx: AuditExecutor, c: Context<HonoEnv>, entry: AuditEntry) {
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

/** The audit of a use case run by this request; with `access`, as that member of its workspace. */
export function auditFor(c: Context<HonoEnv>, access?: WorkspaceAccess): Audit {
  const actor = access ? { workspaceId: access.workspaceId, actorRole: access.role } : {};
  return (tx, entry) => recordAudit(tx, c, { ...actor, ...entry });
}
