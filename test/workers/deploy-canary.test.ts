import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { and, eq, isNull } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { encryptSecret } from '../../core/secret-box';
import { environments, outbox, projects } from '../../db/schema';
import { transitionsOf } from '../../domain/deployments/queries';
import { requestDeployment } from '../../domain/deployments/request';
import { resumeDueCanaries } from '../../domain/deployments/sweeps';
import worker from '../../workers/index';
import {
  CANARY_CONFIG,
  deploymentRow,
  drain,
  elapse,
  environmentRow,
  siteDeployer,
  succeededBuild,
} from './deploy-helpers';
import { seedWorkspaceProject, testDb } from './harness';

const { db, pool } = testDb();
afterAll(() => pool.end());

async function seed() {
  const { project } = await seedWorkspaceProject(db);
  const [production] = await db
    .insert(environments)
    .values({
      projectId: project!.id,
      name: 'production',
      kind: 'production',
      deployConfig: CANARY_CONFIG,
    })
    .returning();
  const deploySite = siteDeployer(db, project!.id, 'd'.repeat(40));
  const deploy = (html: string, strategy: 'all_at_once' | 'canary') =>
    deploySite(html, production!, strategy);
  return { project: project!, production: production!, deploy };
}

async function visitors(projectId: string, count: number) {
  const [project] = await db.select().from(projects).where(eq(projects.id, projectId));
  const bodies: string[] = [];
  for (let i = 0; i < count; i++) {
    const ctx = createExecutionContext();
    const response = await worker.fetch(
      new Request(`http://${project!.hostLabel}.localhost/`, {
        headers: { cookie: `sparki_visitor=visitor-${i}` },
      }),
      env,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    bodies.push(await response.text());
  }
  return bodies;
}

describe('canary steps', () => {
  it('each share serves its time before it is judged and raised; the environment waits', async () => {
    const { project, production, deploy } = await seed();
    const stable = await deploy('stable', 'all_at_once');
    await drain(production.id);
    expect((await deploymentRow(db, stable.id)).status).toBe('live');

    const canary = await deploy('canary', 'canary');
    const drained = Date.now();
    await drain(production.id);
    const serving = await deploymentRow(db, canary.id);
    expect(serving.status).toBe('verifying');
    expect(serving.canaryPercent).toBe(20);
    expect(serving.startedAt).toBeNull();
    // The step serves its whole interval from when it started, however long the drain took.
    expect(serving.resumeAt!.getTime()).toBeGreaterThanOrEqual(drained + 60_000);
    expect(await environmentRow(db, production.id)).toMatchObject({
      liveDeploymentId: stable.id,
      canaryDeploymentId: canary.id,
      canaryPercent: 20,
    });

    // About a fifth of distinct visitors see the canary while the step serves.
    const first = await visitors(project.id, 200);
    const share = first.filter((body) => body === 'canary').length / first.length;
    expect(share).toBeGreaterThan(0.1);
    expect(share).toBeLessThan(0.3);
    expect(await visitors(project.id, 200)).toEqual(first);

    // A later deployment queues behind the step; an early delivery changes nothing.
    const next = await deploy('next', 'all_at_once');
    await drain(production.id);
    expect((await deploymentRow(db, canary.id)).canaryPercent).toBe(20);
    expect((await deploymentRow(db, next.id)).status).toBe('queued');

    await elapse(db, canary.id);
    await drain(production.id);
    const promoted = await deploymentRow(db, canary.id);
    expect(promoted.status).toBe('live');
    expect(promoted.canaryPercent).toBe(100);
    // The queue moved on once the canary finished.
    expect((await deploymentRow(db, next.id)).status).toBe('live');
    expect(await environmentRow(db, production.id)).toMatchObject({
      liveDeploymentId: next.id,
      canaryDeploymentId: null,
      canaryPercent: 0,
    });
    // Health results: its own URL, then the 20% step after it served, then 100%.
    expect(promoted.healthResults).toHaveLength(3);
    // 800 visitor requests: more than the default budget on a loaded machine.
  }, 120_000);

  it('a step failing its health check rolls production back to what served before', async () => {
    const { project, production, deploy } = await seed();
    const stable = await deploy('stable', 'all_at_once');
    await drain(production.id);
    const canary = await deploy('canary', 'canary');
    await drain(production.id);
    expect((await deploymentRow(db, canary.id)).canaryPercent).toBe(20);

    // While the step serves, the check starts to fail (here: it now wants text neither has).
    await db
      .update(environments)
      .set({
        deployConfig: {
          ...CANARY_CONFIG,
          health_check: { retries: 0, interval_ms: 0, body_contains: 'missing' },
        },
      })
      .where(eq(environments.id, production.id));
    await elapse(db, canary.id);
    await drain(production.id);

    const rolledBack = await deploymentRow(db, canary.id);
    expect(rolledBack.status).toBe('rolled_back');
    expect(rolledBack.rolledBackToId).toBe(stable.id);
    expect(await environmentRow(db, production.id)).toMatchObject({
      liveDeploymentId: stable.id,
      canaryDeploymentId: null,
      canaryPercent: 0,
    });
    expect(new Set(await visitors(project.id, 50))).toEqual(new Set(['stable']));
    const history = await transitionsOf(db, canary.id);
    expect(history.map((row) => row.toStatus)).toEqual([
      'validating',
      'deploying',
      'verifying',
      'failed',
      'rolled_back',
    ]);
  });

  it('the cron resumes a step whose message was lost', async () => {
    const { production, deploy } = await seed();
    await deploy('stable', 'all_at_once');
    await drain(production.id);
    const canary = await deploy('canary', 'canary');
    await drain(production.id);
    const unpublished = () =>
      db
        .select()
        .from(outbox)
        .where(and(isNull(outbox.publishedAt), eq(outbox.topic, 'sparki-deployments')));
    const mine = async () =>
      (await unpublished()).filter(
        (row) => (row.payload as { environment_id?: string }).environment_id === production.id,
      );

    await resumeDueCanaries(db, new Date());
    expect(await mine()).toHaveLength(0);
    const resumeAt = (await deploymentRow(db, canary.id)).resumeAt!;
    await resumeDueCanaries(db, new Date(resumeAt.getTime() + 60_000));
    expect(await mine()).toHaveLength(1);
  });
});

/**
 * Cloudflare's Workers versions and deployments API as documented: versions are uploaded, a
 * deployment splits traffic between versions by percentage, the newest deployment serves.
 */
function fakeCloudflare(publicUrl: string) {
  const deployments: { id: string; versions: { version_id: string; percentage: number }[] }[] = [
    { id: 'dep-0', versions: [{ version_id: 'stable', percentage: 100 }] },
  ];
  let versions = 0;
  const ok = (result: unknown) => Response.json({ success: true, errors: [], result });
  const fetch = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    if (request.url.startsWith(publicUrl)) return new Response('ok');
    if (request.headers.get('authorization') !== `Bearer ${'t'.repeat(40)}`) {
      return Response.json(
        { success: false, errors: [{ code: 10000, message: 'Authentication error' }] },
        { status: 403 },
      );
    }
    if (url.pathname.endsWith('/versions') && request.method === 'POST') {
      await request.formData();
      return ok({ id: `version-${++versions}` });
    }
    if (url.pathname.endsWith('/deployments') && request.method === 'GET') {
      return ok({ deployments: [...deployments].reverse() });
    }
    if (url.pathname.endsWith('/deployments') && request.method === 'POST') {
      const body = (await request.json()) as {
        versions: { version_id: string; percentage: number }[];
      };
      const deployment = { id: `dep-${deployments.length}`, versions: body.versions };
      deployments.push(deployment);
      return ok(deployment);
    }
    return Response.json(
      { success: false, errors: [{ code: 7003, message: 'No route' }] },
      { status: 404 },
    );
  };
  const serving = () => deployments.at(-1)!.versions;
  return { fetch, serving };
}

describe('canary steps on an external platform', () => {
  it('each provider share serves its time before the next, then all traffic', async () => {
    const { project } = await seedWorkspaceProject(db);
    const publicUrl = `https://${project.slug}.example.workers.dev`;
    const [production] = await db
      .insert(environments)
      .values({
        projectId: project!.id,
        name: 'production',
        kind: 'production',
        deployTarget: 'cloudflare_workers',
        strategy: 'canary',
        deployConfig: {
          ...CANARY_CONFIG,
          adapter: {
            accountId: 'a'.repeat(32),
            scriptName: 'shop',
            compatibilityDate: '2026-11-01',
            publicUrl,
          },
        },
        credentialsEncrypted: await encryptSecret(
          env.ENCRYPTION_KEY,
          JSON.stringify({ apiToken: 't'.repeat(40) }),
        ),
      })
      .returning();
    const build = await succeededBuild(db, {
      projectId: project!.id,
      number: 1,
      commitSha: 'e'.repeat(40),
      output: { 'worker.js': 'export default {}' },
    });
    const deployment = await requestDeployment(db, {
      requestKey: `test:${build.id}`,
      buildId: build.id,
      projectId: project!.id,
      environmentId: production!.id,
      stage: 'production',
      strategy: 'canary',
    });
    const cloudflare = fakeCloudflare(publicUrl);
    const drainCf = () => drain(production!.id, { fetch: cloudflare.fetch });

    await drainCf();
    const serving = await deploymentRow(db, deployment.id);
    expect(serving).toMatchObject({ status: 'verifying', canaryPercent: 20 });
    expect(serving.resumeAt).not.toBeNull();
    expect(cloudflare.serving()).toEqual([
      { version_id: 'version-1', percentage: 20 },
      { version_id: 'stable', percentage: 80 },
    ]);

    await drainCf();
    expect(cloudflare.serving()).toHaveLength(2);

    await elapse(db, deployment.id);
    await drainCf();
    expect(await deploymentRow(db, deployment.id)).toMatchObject({
      status: 'live',
      canaryPercent: 100,
    });
    expect(cloudflare.serving()).toEqual([{ version_id: 'version-1', percentage: 100 }]);
    expect((await environmentRow(db, production!.id)).liveDeploymentId).toBe(deployment.id);
  });
});
