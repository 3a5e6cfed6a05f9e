import { and, asc, desc, eq, gt, ilike, isNotNull, or, sql } from 'drizzle-orm';
import type { WebhookProvider } from '../../core/webhooks/signatures';
import type { Database, Transaction } from '../../db/client';
import { type Project, projects, webhookDeliveries } from '../../db/schema';

/** Projects of one repository whose secrets a bare-URL delivery is checked against, at most. */
export const MAX_CANDIDATE_PROJECTS = 20;

/**
 * How long a body is remembered per project: the same signed bytes again within this window
 * answer `duplicate` whatever their delivery id. A week covers the providers' own redelivery
 * (GitHub's lasts 3 days) with room; see docs/webhooks.md for the trade-off.
 */
export const REPLAY_WINDOW_SECONDS = 7 * 24 * 60 * 60;

/** The project of this provider with this id, if any. */
export async function providerProject(
  db: Database,
  provider: WebhookProvider,
  projectId: string,
): Promise<Project | undefined> {
  const [project] = await db
    .select()
    .from(projects)
    .where(and(eq(projects.id, projectId), eq(projects.gitProvider, provider)));
  return project;
}

const escapeLike = (text: string) => text.replace(/[\\%_]/g, '\\$&');

/**
 * This provider's projects whose repository URL contains one of `paths`, oldest first, at most
 * MAX_CANDIDATE_PROJECTS: a coarse filter, since stored URLs vary in form.
 */
export function projectsMentioning(db: Database, provider: WebhookProvider, paths: string[]) {
  return db
    .select()
    .from(projects)
    .where(
      and(
        eq(projects.gitProvider, provider),
        isNotNull(projects.repoUrl),
        or(...paths.map((path) => ilike(projects.repoUrl, `%${escapeLike(path)}%`))),
      ),
    )
    .orderBy(asc(projects.createdAt))
    .limit(MAX_CANDIDATE_PROJECTS);
}

/**
 * The delivery this one repeats, if any: the same delivery key, or the same body within the
 * replay window. Providers sign the body alone, so re-sent bytes verify under any delivery id.
 */
export async function earlierDelivery(
  tx: Transaction,
  provider: WebhookProvider,
  projectId: string,
  deliveryId: string,
  payloadSha256: string,
): Promise<string | undefined> {
  const sameKey = and(
    eq(webhookDeliveries.provider, provider),
    eq(webhookDeliveries.deliveryId, deliveryId),
  );
  const [row] = await tx
    .select({ deliveryId: webhookDeliveries.deliveryId })
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.projectId, projectId),
        or(
          sameKey,
          and(
            eq(webhookDeliveries.payloadSha256, payloadSha256),
            gt(
              webhookDeliveries.receivedAt,
              sql`now() - make_interval(secs => ${REPLAY_WINDOW_SECONDS})`,
            ),
          ),
        ),
      ),
    )
    .orderBy(desc(sql`${sameKey}`))
    .limit(1);
  return row?.deliveryId;
}

/** Records a delivery once per project, provider and delivery id: false when it already was. */
export async function recordDelivery(
  tx: Transaction,
  delivery: typeof webhookDeliveries.$inferInsert,
): Promise<boolean> {
  const [recorded] = await tx
    .insert(webhookDeliveries)
    .values(delivery)
    .onConflictDoNothing({
      target: [
        webhookDeliveries.projectId,
        webhookDeliveries.provider,
        webhookDeliveries.deliveryId,
      ],
    })
    .returning({ id: webhookDeliveries.id });
  return recorded !== undefined;
}
