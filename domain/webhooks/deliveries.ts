import { and, asc, desc, eq, gt, ilike, isNotNull, or, sql } from 'drizzle-orm';
import type { WebhookProvider } from '../../core/webhooks/signatures';
import type { Database, Transaction } from '../../db/client';
import { type Project, projects, webhookDeliveries } from '../../db/schema';
import type { Audit } from '../audit';
import { type CreatedBuild, createBuild, lockProject } from '../builds/create';
import { closeRef, type RetiredDeployment, refMetadata } from '../deployments/retire';
import type { DeliveryPlan } from './plan';

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
async function earlierDelivery(
  tx: Transaction,
  provider: DeliveryProvider,
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
async function recordDelivery(
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

/** A git provider's webhook, or `poll`: a head a runner's poll found (domain/polling). */
export type DeliveryProvider = WebhookProvider | 'poll';

/**
 * The delivery id of a head a runner's poll found: keyed by what it is, not when it was seen, so
 * the same head reported again is a duplicate, and a provider's webhook of it finds it too.
 */
export function polledDeliveryId(kind: 'push' | 'delete', branch: string, sha: string): string {
  return `${kind}:${branch}:${sha}`;
}

/**
 * A provider's push that a runner's poll of the repository found (and built) first, when the
 * project is both polled and sent webhooks: the webhook then builds nothing more. The reverse
 * order is covered on the polling side (domain/polling/heads.ts).
 */
async function polledFirst(
  tx: Transaction,
  projectId: string,
  provider: DeliveryProvider,
  plan: DeliveryPlan | undefined,
): Promise<string | undefined> {
  if (provider === 'poll' || plan?.outcome !== 'queued') return undefined;
  const { trigger, branch, commitSha } = plan.build;
  if (trigger !== 'push' || !branch || !commitSha) return undefined;
  const id = polledDeliveryId('push', branch, commitSha);
  const [row] = await tx
    .select({ id: webhookDeliveries.id })
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.projectId, projectId),
        eq(webhookDeliveries.provider, 'poll'),
        eq(webhookDeliveries.deliveryId, id),
      ),
    )
    .limit(1);
  return row ? id : undefined;
}

/** A verified delivery, as its headers name it, and the digest of its body. */
export interface VerifiedDelivery {
  provider: DeliveryProvider;
  id: string;
  event: string;
  payloadSha256: string;
}

export type DeliveryOutcome =
  | { duplicate: true; earlier: string }
  | {
      duplicate: false;
      /** The plan carried out: the one asked for, unless a poll found the head first. */
      plan: DeliveryPlan | undefined;
      created: CreatedBuild | undefined;
      retired: RetiredDeployment[];
    };

/**
 * Records a verified delivery with what became of it, and carries its plan out once: a queued
 * build is created, a closed ref's previews retire (audited as the system: the provider's
 * delivery did it, not a member). Without a plan (`failure` says why) it is recorded `failed`.
 * A repeat changes nothing and names the delivery it repeats.
 */
export function acceptDelivery(
  db: Database,
  project: Pick<Project, 'id' | 'workspaceId'>,
  delivery: VerifiedDelivery,
  plan: DeliveryPlan | undefined,
  failure: string | undefined,
  audit: Audit,
): Promise<DeliveryOutcome> {
  return db.transaction(async (tx) => {
    // Under the project's lock, so concurrent copies of one delivery see each other.
    await lockProject(tx, project.id);
    return applyDelivery(tx, project, delivery, plan, failure, audit);
  });
}

/** `acceptDelivery` in the caller's transaction, which holds the project's lock already. */
export async function applyDelivery(
  tx: Transaction,
  project: Pick<Project, 'id' | 'workspaceId'>,
  delivery: VerifiedDelivery,
  planned: DeliveryPlan | undefined,
  failure: string | undefined,
  audit: Audit,
): Promise<DeliveryOutcome> {
  const { provider } = delivery;
  const earlier = await earlierDelivery(
    tx,
    provider,
    project.id,
    delivery.id,
    delivery.payloadSha256,
  );
  if (earlier) return { duplicate: true as const, earlier };
  const polled = await polledFirst(tx, project.id, provider, planned);
  const plan: DeliveryPlan | undefined = polled
    ? { outcome: 'ignored', reason: `a poll of the repository found this head first (${polled})` }
    : planned;
  const recorded = await recordDelivery(tx, {
    provider,
    deliveryId: delivery.id,
    event: delivery.event,
    projectId: project.id,
    payloadSha256: delivery.payloadSha256,
    status: !plan ? 'failed' : plan.outcome === 'ignored' ? 'ignored' : 'processed',
    processedAt: new Date(),
    error: failure ?? (plan?.outcome === 'ignored' ? plan.reason : null),
  });
  if (!recorded) return { duplicate: true as const, earlier: delivery.id };
  const created: CreatedBuild | undefined =
    plan?.outcome === 'queued' ? await createBuild(tx, plan.build) : undefined;
  const retiring = plan?.outcome === 'retire' ? plan : undefined;
  const retired: RetiredDeployment[] = [];
  if (retiring) {
    retired.push(...(await closeRef(tx, project.id, retiring.ref)));
    for (const deployment of retired) {
      await audit(tx, {
        action: 'deployment.retired',
        workspaceId: project.workspaceId,
        actorRole: 'system',
        actorId: null,
        targetType: 'deployment',
        targetId: deployment.id,
        metadata: {
          reason: retiring.note,
          from: deployment.from,
          provider,
          delivery_id: delivery.id,
          ...refMetadata(retiring.ref),
        },
      });
    }
  }
  return { duplicate: false as const, plan, created, retired };
}
