import type { Database, Transaction } from '../../db/client';
import { auditLogs } from '../../db/schema';

/** An audit row for what the deploy engine did on its own (no member asked): actor `system`. */
export async function auditDeployment(
  db: Database | Transaction,
  entry: {
    workspaceId: string;
    deploymentId: string;
    action: string;
    metadata: Record<string, unknown>;
  },
) {
  await db.insert(auditLogs).values({
    workspaceId: entry.workspaceId,
    actorId: null,
    actorRole: 'system',
    action: entry.action,
    targetType: 'deployment',
    targetId: entry.deploymentId,
    result: 'success',
    metadata: entry.metadata,
  });
}
