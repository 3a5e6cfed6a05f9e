import { env } from 'cloudflare:test';
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { deployments, environments, notificationDeliveries } from '../../db/schema';
import { reportPendingOutcomes } from '../../domain/deployments/queue';
import { runDeployment } from '../../domain/deployments/runner';
import { transitionDeployment } from '../../domain/deployments/transition';
import { createLogger } from '../../platform/logger';
import { createServices } from '../../platform/services';
import { deploymentRow, drain, siteDeployer } from './deploy-helpers';
import { runScheduled, testDb } from './harness';
import { projectFixture, subscribeWebhook } from './project-fixtures';

const { db, pool } = testDb();
afterAll(() => pool.end());

function taskContext() {
  const { services } = createServices(env);
  return { env, services, logger: createLogger({}, 'error') };
}

/** A project whose production answers its health check at once, subscribed to `deployment.live`. */
async function setup() {
  const { owner, project } = await projectFixture({ provider: 'none' });
  const [production] = await db
    .update(environments)
    .set({ deployConfig: { health_check: { retries: 0, interval_ms: 0 } } })
    .where(and(eq(environments.projectId, project.id), eq(environments.kind, 'production')))
    .returning();
  await subscribeWebhook(owner, project.id, ['deployment.live']);
  return { production: production!, deploy: siteDeployer(db, project.id, 'c'.repeat(40)) };
}

function liveNotices(deploymentId: string) {
  return db
    .select()
    .from(notificationDeliveries)
    .where(eq(notificationDeliveries.eventId, `deployment.live:${deploymentId}`));
}

describe('the outcome of a deployment the engine ended', () => {
  it('is told by the consumer that ran it, and by the cron when that consumer died first', async () => {
    const { production, deploy } = await setup();

    const first = await deploy('<h1>one</h1>', production);
    await drain(production.id);
    expect(await deploymentRow(db, first.id)).toMatchObject({
      status: 'live',
      reportPending: false,
    });
    expect(await liveNotices(first.id)).toHaveLength(1);

    // A consumer takes the next one and runs it to the end, then dies before telling anyone.
    const second = await deploy('<h1>two</h1>', production);
    const taken = await transitionDeployment(db, second.id, 'queued', 'validating');
    if (!taken.ok) throw new Error(`not taken: ${taken.status}`);
    await runDeployment(taskContext(), taken.deployment, {});
    expect(await deploymentRow(db, second.id)).toMatchObject({
      status: 'live',
      reportPending: true,
    });
    expect(await liveNotices(second.id)).toEqual([]);

    // Within the grace period its consumer may still be at it: the cron leaves it.
    expect(await reportPendingOutcomes(taskContext(), new Date())).toBe(0);
    // Past it, the next cron tells of it, once.
    await db.execute(
      sql`update ${deployments} set updated_at = now() - interval '10 minutes' where id = ${second.id}`,
    );
    await runScheduled();
    expect(await liveNotices(second.id)).toHaveLength(1);
    expect((await deploymentRow(db, second.id)).reportPending).toBe(false);
    await runScheduled();
    expect(await liveNotices(second.id)).toHaveLength(1);
  });
});
