import { and, asc, eq } from 'drizzle-orm';
import type { SubscribableEvent, TargetKind } from '../../core/notifications/events';
import { encryptSecret } from '../../core/secret-box';
import type { Database } from '../../db/client';
import { type NotificationTarget, notificationTargets } from '../../db/schema';
import type { Audit } from '../audit';

export function targetsOf(db: Database, projectId: string) {
  return db
    .select()
    .from(notificationTargets)
    .where(eq(notificationTargets.projectId, projectId))
    .orderBy(asc(notificationTargets.createdAt), asc(notificationTargets.id));
}

/** The project's target, or undefined: another project's is as unknown as a missing one. */
export async function findTarget(db: Database, projectId: string, targetId: string) {
  const [row] = await db
    .select()
    .from(notificationTargets)
    .where(and(eq(notificationTargets.id, targetId), eq(notificationTargets.projectId, projectId)));
  return row;
}

/**
 * What the API shows of a URL once it is stored: a chat webhook's URL is its credential, so only
 * its origin; a signed webhook's path too (no query, which may carry a token).
 */
export function urlHint(kind: TargetKind, url: URL): string {
  return kind === 'webhook' ? `${url.origin}${url.pathname}` : `${url.origin}/…`;
}

export interface NewTarget {
  kind: TargetKind;
  name: string;
  url: URL;
  events: SubscribableEvent[];
  /** Webhooks only: the signing secret, shown once by the caller. */
  secret?: string;
}

export async function createTarget(
  db: Database,
  encryptionKey: string,
  projectId: string,
  input: NewTarget,
  audit: Audit,
) {
  const values = {
    projectId,
    kind: input.kind,
    name: input.name,
    urlEncrypted: await encryptSecret(encryptionKey, input.url.href),
    urlHint: urlHint(input.kind, input.url),
    secretEncrypted: input.secret ? await encryptSecret(encryptionKey, input.secret) : null,
    events: input.events,
  };
  return db.transaction(async (tx) => {
    const [row] = await tx.insert(notificationTargets).values(values).returning();
    await audit(tx, {
      action: 'notification_target.created',
      targetType: 'notification_target',
      targetId: row!.id,
      metadata: {
        project_id: projectId,
        kind: input.kind,
        url: row!.urlHint,
        events: input.events,
      },
    });
    return row!;
  });
}

export interface TargetChange {
  name?: string | undefined;
  events?: SubscribableEvent[] | undefined;
  enabled?: boolean | undefined;
}

export function updateTarget(
  db: Database,
  target: NotificationTarget,
  change: TargetChange,
  audit: Audit,
) {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(notificationTargets)
      .set({
        ...(change.name !== undefined && { name: change.name }),
        ...(change.events !== undefined && { events: change.events }),
        ...(change.enabled !== undefined && { enabled: change.enabled }),
      })
      .where(eq(notificationTargets.id, target.id))
      .returning();
    if (!row) return undefined;
    await audit(tx, {
      action: 'notification_target.updated',
      targetType: 'notification_target',
      targetId: row.id,
      metadata: { project_id: row.projectId, changed: Object.keys(change).sort(), ...change },
    });
    return row;
  });
}

export function removeTarget(db: Database, target: NotificationTarget, audit: Audit) {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .delete(notificationTargets)
      .where(eq(notificationTargets.id, target.id))
      .returning();
    if (!row) return false;
    await audit(tx, {
      action: 'notification_target.deleted',
      targetType: 'notification_target',
      targetId: row.id,
      metadata: { project_id: row.projectId, kind: row.kind, url: row.urlHint },
    });
    return true;
  });
}
