import { and, desc, eq, gt, isNull } from 'drizzle-orm';
import { sha256Hex } from '../../core/digest';
import type { Database } from '../../db/client';
import { runnerRegistrationTokens, runners } from '../../db/schema';
import type { Audit } from '../audit';

export type RunnerRow = typeof runners.$inferSelect;
export type RegistrationTokenRow = typeof runnerRegistrationTokens.$inferSelect;

/** A registration token stored under the hash of `token` until `expiresAt`. */
export function createRegistrationToken(
  db: Database,
  token: { workspaceId: string; secret: string; createdBy: string; expiresAt: Date },
  audit: Audit,
) {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(runnerRegistrationTokens)
      .values({
        workspaceId: token.workspaceId,
        tokenHash: await sha256Hex(token.secret),
        createdBy: token.createdBy,
        expiresAt: token.expiresAt,
      })
      .returning();
    await audit(tx, {
      action: 'runner_registration_token.created',
      targetType: 'runner_registration_token',
      targetId: row!.id,
      metadata: { expires_at: row!.expiresAt.toISOString() },
    });
    return row!;
  });
}

/** A workspace's registration tokens, newest first. */
export function registrationTokensOf(db: Database, workspaceId: string) {
  return db
    .select()
    .from(runnerRegistrationTokens)
    .where(eq(runnerRegistrationTokens.workspaceId, workspaceId))
    .orderBy(desc(runnerRegistrationTokens.createdAt));
}

/** Whether a live registration token of the workspace was revoked. */
export function revokeRegistrationToken(
  db: Database,
  workspaceId: string,
  tokenId: string,
  audit: Audit,
) {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(runnerRegistrationTokens)
      .set({ revokedAt: new Date() })
      .where(
        and(
          eq(runnerRegistrationTokens.id, tokenId),
          eq(runnerRegistrationTokens.workspaceId, workspaceId),
          isNull(runnerRegistrationTokens.revokedAt),
        ),
      )
      .returning({ id: runnerRegistrationTokens.id });
    if (!row) return false;
    await audit(tx, {
      action: 'runner_registration_token.revoked',
      targetType: 'runner_registration_token',
      targetId: tokenId,
    });
    return true;
  });
}

/**
 * A new runner of the workspace whose live registration token is `registrationToken`, holding
 * `runnerToken`; undefined for a token that is unknown, expired or revoked.
 */
export async function registerRunner(
  db: Database,
  runner: {
    registrationToken: string;
    runnerToken: string;
    name: string;
    labels: string[];
    capacity: number;
    version: string | null;
  },
  audit: Audit,
) {
  const registrationHash = await sha256Hex(runner.registrationToken);
  const runnerHash = await sha256Hex(runner.runnerToken);
  return db.transaction(async (tx) => {
    const [registration] = await tx
      .select()
      .from(runnerRegistrationTokens)
      .where(
        and(
          eq(runnerRegistrationTokens.tokenHash, registrationHash),
          isNull(runnerRegistrationTokens.revokedAt),
          gt(runnerRegistrationTokens.expiresAt, new Date()),
        ),
      );
    if (!registration) return undefined;
    const [row] = await tx
      .insert(runners)
      .values({
        workspaceId: registration.workspaceId,
        name: runner.name,
        labels: runner.labels,
        capacity: runner.capacity,
        tokenHash: runnerHash,
        version: runner.version,
      })
      .returning();
    await audit(tx, {
      action: 'runner.registered',
      workspaceId: registration.workspaceId,
      actorId: null,
      targetType: 'runner',
      targetId: row!.id,
      metadata: {
        name: runner.name,
        labels: runner.labels,
        capacity: runner.capacity,
        registration_token_id: registration.id,
      },
    });
    return row!;
  });
}

/** A workspace's runners by name. */
export function runnersOf(db: Database, workspaceId: string) {
  return db
    .select()
    .from(runners)
    .where(eq(runners.workspaceId, workspaceId))
    .orderBy(runners.name);
}

export async function findRunner(db: Database, id: string): Promise<RunnerRow | undefined> {
  const [row] = await db.select().from(runners).where(eq(runners.id, id));
  return row;
}

/** The runner holding `token`, if any. */
export async function runnerByToken(db: Database, token: string): Promise<RunnerRow | undefined> {
  const [row] = await db
    .select()
    .from(runners)
    .where(eq(runners.tokenHash, await sha256Hex(token)));
  return row;
}

export function setRunnerDisabled(db: Database, id: string, disabled: boolean, audit: Audit) {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(runners)
      .set(
        disabled
          ? { disabledAt: new Date(), status: 'disabled' }
          : { disabledAt: null, status: 'offline' },
      )
      .where(eq(runners.id, id))
      .returning();
    await audit(tx, {
      action: disabled ? 'runner.disabled' : 'runner.enabled',
      targetType: 'runner',
      targetId: id,
    });
    return row!;
  });
}

export function deleteRunner(db: Database, runner: RunnerRow, audit: Audit) {
  return db.transaction(async (tx) => {
    await tx.delete(runners).where(eq(runners.id, runner.id));
    await audit(tx, {
      action: 'runner.deleted',
      targetType: 'runner',
      targetId: runner.id,
      metadata: { name: runner.name },
    });
  });
}
