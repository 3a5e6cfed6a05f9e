import type { Context } from 'hono';
import { type Audit, type AuditEntry, type AuditExecutor, writeAudit } from '../domain/audit';
import type { WorkspaceAccess } from './auth/authorize';
import type { HonoEnv } from './context';

/** Call inside the transaction of the change it records, so neither exists without the other. */
export function recordAudit(tx: AuditExecutor, c: Context<HonoEnv>, entry: AuditEntry) {
  return writeAudit(
    tx,
    {
      actorId: c.get('principal')?.userId ?? null,
      ip: c.req.header('cf-connecting-ip') ?? null,
      userAgent: c.req.header('user-agent') ?? null,
      requestId: c.get('requestId'),
    },
    entry,
  );
}

/** The audit of a use case run by this request; with `access`, as that member of its workspace. */
export function auditFor(c: Context<HonoEnv>, access?: WorkspaceAccess): Audit {
  const actor = access ? { workspaceId: access.workspaceId, actorRole: access.role } : {};
  return (tx, entry) => recordAudit(tx, c, { ...actor, ...entry });
}
