import {
  createExecutionContext,
  createMessageBatch,
  env,
  getQueueResult,
  waitOnExecutionContext,
} from 'cloudflare:test';
import { and, eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import {
  auditLogs,
  builds,
  deployments,
  deploymentTransitions,
  environments,
  projects,
} from '../../db/schema';
import worker from '../../workers/index';
import { runScheduled, seedWorkspaceProject, testDb } from './harness';
import { tarGz } from './tar-fixture';

const { db, pool } = testDb();
afterAll(() => pool.end());

async function deliver(body: unknown) {
  const batch = createMessageBatch('sparki-deployments', [
    { id: `msg-${crypto.randomUUID()}`, timestamp: new Date(), attempts: 1, body },
  ]);
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  await waitOnExecutionContext(ctx);
  return getQueueResult(batch, ctx);
}

async function visit(url: string, init?: RequestInit) {
  const ctx = createExecutionContext();
  const response = await worker.fetch(new Request(url, init), env, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

async function seed() {
  const { workspace, project } = await seedWorkspaceProject(db);
  const fast = { health_check: { retries: 0, interval_ms: 0 } };
  const [production] = await db
    .insert(environments)
    .values({ projectId: project!.id, name: 'production', kind: 'production', deployConfig: fast })
    .returning();
  const [preview] = await db
    .insert(environments)
    .values({ projectId: project!.id, name: 'preview', kind: 'preview', deployConfig: fast })
    .returning();
  let number = 0;
  const build = async (files: Record<string, string>) => {
    const [row] = await db
      .insert(builds)
      .values({
        projectId: project!.id,
        number: ++number,
        commitSha: 'b'.repeat(40),
        trigger: 'push',
        status: 'succeeded',
      })
      .returning();
    const artifactKey = `builds/${row!.id}/output.tar.gz`;
    await env.ARTIFACTS.put(artifactKey, await tarGz(files));
    await db.update(builds).set({ artifactKey }).where(eq(builds.id, row!.id));
    return { ...row!, artifactKey };
  };
  return {
    workspace: workspace!,
    project: project!,
    production: production!,
    preview: preview!,
    build,
  };
}

function succeeded(
  b: { id: string; projectId: string; artifactKey: string },
  target: 'production' | 'preview',
) {
  return deliver({
    type: 'build.succeeded',
    build_id: b.id,
    project_id: b.projectId,
    target,
    artifact_key: b.artifactKey,
  });
}

async function deploymentsOf(environmentId: string) {
  return db
    .select()
    .from(deployments)
    .where(eq(deployments.environmentId, environmentId))
    .orderBy(deployments.createdAt);
}

const productionHost = async (projectId: string) => {
  const [p] = await db
    .select({ label: projects.hostLabel })
    .from(projects)
    .where(eq(projects.id, projectId));
  return `http://${p!.label}.localhost`;
};

describe('the deploy engine (edge host)', () => {
  it('deploys a preview to its own URL, with every transition stored', async () => {
    const { preview, build } = await seed();
    const b = await build({ 'index.html': '<h1>preview one</h1>' });
    const result = await succeeded(b, 'preview');
    expect(result.retryMessages).toEqual([]);

    const [deployment] = await deploymentsOf(preview.id);
    expect(deployment).toMatchObject({ status: 'live', stage: 'preview', platform: 'edge' });
    expect(deployment!.url).toMatch(/^http:\/\/[a-f0-9]{12}--shop-[a-z0-9-]+\.localhost$/);
    expect(await (await visit(`${deployment!.url}/`)).text()).toBe('<h1>preview one</h1>');

    const transitions = await db
      .select()
      .from(deploymentTransitions)
      .where(eq(deploymentTransitions.deploymentId, deployment!.id))
      .orderBy(deploymentTransitions.at);
    expect(transitions.map((t) => t.toStatus)).toEqual([
      'validating',
      'deploying',
      'verifying',
      'live',
    ]);
  });

  it('does not deploy twice when the message is delivered again', async () => {
    const { preview, build } = await seed();
    const b = await build({ 'index.html': 'once' });
    await succeeded(b, 'preview');
    await succeeded(b, 'preview');
    expect(await deploymentsOf(preview.id)).toHaveLength(1);
  });

  it('puts production live on the project host; an unchanged output uploads no new blobs', async () => {
    const { project, production, build } = await seed();
    const first = await build({ 'index.html': 'v1', 'app.js': 'same' });
    await succeeded(first, 'production');
    const host = await productionHost(project.id);
    expect(await (await visit(`${host}/`)).text()).toBe('v1');

    const listed = async () => (await env.SITES.list({ prefix: 'blobs/' })).objects.length;
    const before = await listed();
    const again = await build({ 'index.html': 'v1', 'app.js': 'same' });
    await succeeded(again, 'production');
    expect(await listed()).toBe(before);
    const [, second] = await deploymentsOf(production.id);
    expect(second?.status).toBe('live');
  });

  it('rolls production back on its own when the health check fails, and audits it', async () => {
    const { project, production, build, workspace } = await seed();
    await succeeded(await build({ 'index.html': 'good' }), 'production');
    // From now on the check wants text only the first version has.
    await db
      .update(environments)
      .set({
        deployConfig: { health_check: { retries: 0, interval_ms: 0, body_contains: 'good' } },
      })
      .where(eq(environments.id, production.id));
    await succeeded(await build({ 'index.html': 'broken' }), 'production');

    const [good, bad] = await deploymentsOf(production.id);
    expect(bad).toMatchObject({ status: 'rolled_back', rolledBackToId: good!.id });
    expect(bad?.error).toContain('Health check failed');
    expect(await (await visit(`${await productionHost(project.id)}/`)).text()).toBe('good');
    const [env0] = await db.select().from(environments).where(eq(environments.id, production.id));
    expect(env0?.liveDeploymentId).toBe(good!.id);
    const audit = await db
      .select()
      .from(auditLogs)
      .where(
        and(
          eq(auditLogs.workspaceId, workspace.id),
          eq(auditLogs.action, 'deployment.rolled_back'),
        ),
      );
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ targetId: bad!.id, result: 'success' });
  });

  it('fails validation naming what is missing, and deploys nothing', async () => {
    const { production, build } = await seed();
    await db
      .update(environments)
      .set({ deployConfig: { required_env: ['API_URL'] } })
      .where(eq(environments.id, production.id));
    await succeeded(await build({ 'index.html': 'x' }), 'production');
    const [deployment] = await deploymentsOf(production.id);
    expect(deployment?.status).toBe('failed');
    expect(deployment?.error).toBe(
      'Validation failed: required environment variable API_URL is not set',
    );
    expect(deployment?.manifestKey).toBeNull();
  });
});

describe('stale deployments', () => {
  it('are failed by the cron so the environment’s queue moves on', async () => {
    const { production, build } = await seed();
    const b = await build({ 'index.html': 'x' });
    const [stuck] = await db
      .insert(deployments)
      .values({
        projectId: b.projectId,
        buildId: b.id,
        environmentId: production.id,
        stage: 'production',
        platform: 'edge',
        status: 'deploying',
        startedAt: new Date(Date.now() - 60 * 60 * 1000),
      })
      .returning();
    await runScheduled();
    const [row] = await db.select().from(deployments).where(eq(deployments.id, stuck!.id));
    expect(row).toMatchObject({ status: 'failed', error: 'the deploy engine stopped answering' });
  });
});
