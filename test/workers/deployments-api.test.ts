import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { and, eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { encryptSecret } from '../../core/secret-box';
import {
  auditLogs,
  builds,
  deployments,
  environments,
  memberships,
  projects,
  users,
} from '../../db/schema';
import worker from '../../workers/index';
import { as } from './api-client';
import { createWorkspace, newUser } from './auth-helpers';
import { eventually, testDb } from './harness';
import { tarGz } from './tar-fixture';

const { db, pool } = testDb();
afterAll(() => pool.end());

async function visit(url: string) {
  const ctx = createExecutionContext();
  const response = await worker.fetch(new Request(url), env, ctx);
  await waitOnExecutionContext(ctx);
  return response.text();
}

async function setup() {
  const owner = await newUser('owner');
  const workspace = await createWorkspace(owner.access_token);
  const created = await as(owner).post<{ id: string }>(`/api/workspaces/${workspace.id}/projects`, {
    name: 'Site',
    slug: `site-${crypto.randomUUID().slice(0, 6)}`,
  });
  const project = created.body;
  let number = 0;
  const build = async (html: string) => {
    const [row] = await db
      .insert(builds)
      .values({
        projectId: project.id,
        number: ++number,
        commitSha: 'c'.repeat(40),
        trigger: 'push',
        status: 'succeeded',
      })
      .returning();
    const artifactKey = `builds/${row!.id}/output.tar.gz`;
    await env.ARTIFACTS.put(artifactKey, await tarGz({ 'index.html': html }));
    await db.update(builds).set({ artifactKey }).where(eq(builds.id, row!.id));
    return row!.id;
  };
  return { owner, workspace, project, build };
}

async function settled(id: string) {
  const done = await eventually(
    async () => (await db.select().from(deployments).where(eq(deployments.id, id)))[0],
    (row) => Boolean(row && ['live', 'failed', 'rolled_back', 'canceled'].includes(row.status)),
  );
  return done!;
}

type Owner = Awaited<ReturnType<typeof newUser>>;

/** Where the API says the project's production is live, checked against the workspace's list. */
async function productionUrl(owner: Owner, projectId: string) {
  const shown = await as(owner).get<{ workspace_id: string; production_url: string | null }>(
    `/api/projects/${projectId}`,
  );
  const listed = await as(owner).get<{ projects: { id: string; production_url: string | null }[] }>(
    `/api/workspaces/${shown.body.workspace_id}/projects`,
  );
  expect(listed.body.projects.find((p) => p.id === projectId)?.production_url).toBe(
    shown.body.production_url,
  );
  return shown.body.production_url;
}

describe('deployments API', () => {
  it('deploys a preview, promotes it without rebuilding, and rolls production back in one call', async () => {
    const { owner, project, build, workspace } = await setup();
    const first = await as(owner).post<{ id: string }>(`/api/builds/${await build('one')}/deploy`, {
      stage: 'preview',
    });
    expect(first.status, first.text).toBe(202);
    const preview = await settled(first.body.id);
    expect(preview.status).toBe('live');
    expect(await visit(`${preview.url}/`)).toBe('one');
    const shown = await as(owner).get<{ url: string }>(`/api/deployments/${preview.id}`);
    expect(shown.body.url).toBe(preview.url);
    // A preview is not production.
    expect(await productionUrl(owner, project.id)).toBeNull();

    const promoted = await as(owner).post<{ id: string }>(`/api/deployments/${preview.id}/promote`);
    expect(promoted.status).toBe(202);
    const production = await settled(promoted.body.id);
    expect(production).toMatchObject({
      status: 'live',
      stage: 'production',
      manifestKey: preview.manifestKey,
    });
    const [named] = await db.select().from(projects).where(eq(projects.id, project.id));
    expect(await productionUrl(owner, project.id)).toBe(`http://${named!.hostLabel}.localhost`);
    expect(await visit(`${await productionUrl(owner, project.id)}/`)).toBe('one');

    const second = await as(owner).post<{ id: string }>(
      `/api/builds/${await build('two')}/deploy`,
      {
        stage: 'production',
      },
    );
    const next = await settled(second.body.id);
    expect(next.status).toBe('live');
    expect(await visit(`${await productionUrl(owner, project.id)}/`)).toBe('two');

    const rollback = await as(owner).post(
      `/api/environments/${production.environmentId}/rollback`,
      {},
    );
    expect(rollback.status, rollback.text).toBe(200);
    expect(await visit(`${await productionUrl(owner, project.id)}/`)).toBe('one');
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

    const detail = await as(owner).get<{ status: string; transitions: { to: string }[] }>(
      `/api/deployments/${next.id}`,
    );
    const body = detail.body;
    expect(body.status).toBe('rolled_back');
    expect(body.transitions.map((t) => t.to)).toEqual([
      'validating',
      'deploying',
      'verifying',
      'live',
      'rolled_back',
    ]);

    const listed = await as(owner).get<{ deployments: unknown[] }>(
      `/api/projects/${project.id}/deployments?stage=production`,
    );
    expect(listed.body.deployments).toHaveLength(2);
  });

  it('promotes an external deployment through the provider when production shares its target', async () => {
    const { owner, project, build } = await setup();
    // A receiver on a closed loopback port: the engine's choice is recorded before it is called.
    const hook = {
      deployTarget: 'webhook',
      deployConfig: { adapter: { url: 'http://127.0.0.1:9/hook' } },
      credentialsEncrypted: await encryptSecret(
        env.ENCRYPTION_KEY,
        JSON.stringify({ secret: 's'.repeat(40) }),
      ),
    };
    const rows = await db
      .update(environments)
      .set(hook)
      .where(eq(environments.projectId, project.id))
      .returning();
    const previewEnvironment = rows.find((row) => row.kind === 'preview')!;
    const productionEnvironment = rows.find((row) => row.kind === 'production')!;
    const previewId = crypto.randomUUID();
    await db.insert(deployments).values({
      id: previewId,
      projectId: project.id,
      buildId: await build('one'),
      environmentId: previewEnvironment.id,
      stage: 'preview',
      platform: 'webhook',
      status: 'live',
      providerRef: { id: previewId },
    });

    const promoted = await as(owner).post<{
      id: string;
      promoted_from_id: string;
      platform: string;
    }>(`/api/deployments/${previewId}/promote`);
    expect(promoted.status, promoted.text).toBe(202);
    const body = promoted.body;
    expect(body).toMatchObject({ promoted_from_id: previewId, platform: 'webhook' });
    const production = await settled(body.id);
    expect(production).toMatchObject({
      environmentId: productionEnvironment.id,
      manifestKey: null,
      promotedFromId: previewId,
      providerRef: { id: previewId },
    });

    const detail = await as(owner).get<{ transitions: { to: string; reason: string }[] }>(
      `/api/deployments/${body.id}`,
    );
    const { transitions } = detail.body;
    expect(transitions.find((t) => t.to === 'deploying')?.reason).toMatch(
      new RegExp(`^native promote of ${previewId}: Signed deploy webhook switches production`),
    );
  });

  it('gives the live deployment’s own URL as production’s on another platform', async () => {
    const { owner, project, build } = await setup();
    const [production] = await db
      .select()
      .from(environments)
      .where(and(eq(environments.projectId, project.id), eq(environments.kind, 'production')));
    const [live] = await db
      .insert(deployments)
      .values({
        projectId: project.id,
        buildId: await build('one'),
        environmentId: production!.id,
        stage: 'production',
        platform: 'webhook',
        status: 'live',
        url: 'https://shop.receiver.example',
      })
      .returning();
    expect(await productionUrl(owner, project.id)).toBeNull();
    await db
      .update(environments)
      .set({ liveDeploymentId: live!.id })
      .where(eq(environments.id, production!.id));
    expect(await productionUrl(owner, project.id)).toBe('https://shop.receiver.example');
  });

  it('refuses what cannot be deployed, viewers, and strangers', async () => {
    const { owner, workspace, build } = await setup();
    const buildId = await build('x');
    await db.update(builds).set({ status: 'failed' }).where(eq(builds.id, buildId));
    expect((await as(owner).post(`/api/builds/${buildId}/deploy`, {})).status).toBe(409);

    const viewer = await newUser('viewer');
    const [v] = await db.select({ id: users.id }).from(users).where(eq(users.email, viewer.email));
    await db
      .insert(memberships)
      .values({ workspaceId: workspace.id, userId: v!.id, role: 'viewer' });
    const ok = await build('y');
    expect((await as(viewer).post(`/api/builds/${ok}/deploy`, {})).status).toBe(403);
    const stranger = await newUser('stranger');
    expect((await as(stranger).post(`/api/builds/${ok}/deploy`, {})).status).toBe(404);
    expect((await as(stranger).get(`/api/deployments/${crypto.randomUUID()}`)).status).toBe(404);
    expect((await as(owner).post(`/api/builds/${ok}/deploy`, { stage: 'staging' })).status).toBe(
      400,
    );
  });
});
