import {
  createExecutionContext,
  createMessageBatch,
  env,
  getQueueResult,
  waitOnExecutionContext,
} from 'cloudflare:test';
import { and, asc, eq, inArray } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import {
  auditLogs,
  builds,
  type Deployment,
  deployments,
  deploymentTransitions,
  environments,
  projects,
} from '../../db/schema';
import { requestDeployment } from '../../domain/deployments/request';
import worker from '../../workers/index';
import giteaPullRequest from '../fixtures/webhooks/gitea-pull-request-synchronized.json';
import gitlabMergeRequest from '../fixtures/webhooks/gitlab-merge-request-update.json';
import gitlabPush from '../fixtures/webhooks/gitlab-push.json';
import { authed } from './auth-helpers';
import { fetchWorker, testDb } from './harness';
import { projectFixture } from './project-fixtures';
import { tarGz } from './tar-fixture';
import {
  atRepo,
  deliveryHeaders,
  githubExample,
  type Payload,
  type Provider,
  signatureHeaders,
} from './webhook-helpers';

const { db, pool } = testDb();
afterAll(() => pool.end());

interface DeliveryResult {
  status: string;
  reason?: string;
  retired_deployment_ids?: string[];
}

async function queue(body: unknown) {
  const batch = createMessageBatch('sparki-deployments', [
    { id: `msg-${crypto.randomUUID()}`, timestamp: new Date(), attempts: 1, body },
  ]);
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  await waitOnExecutionContext(ctx);
  return getQueueResult(batch, ctx);
}

async function visit(url: string) {
  const ctx = createExecutionContext();
  const response = await worker.fetch(new Request(url), env, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

/** A project of `provider` with its environments, and builds with output, deployed as asked. */
async function setup(provider: Provider = 'github') {
  const fixture = await projectFixture({ provider, productionBranch: 'main' });
  const { project } = fixture;
  const envs = await db.select().from(environments).where(eq(environments.projectId, project.id));
  const production = envs.find((row) => row.kind === 'production')!;
  const preview = envs.find((row) => row.kind === 'preview')!;
  const fast = { health_check: { retries: 0, interval_ms: 0 } };
  await db
    .update(environments)
    .set({ deployConfig: fast })
    .where(eq(environments.projectId, project.id));
  let number = 0;

  const build = async (ref: { branch: string; pullRequest?: number }, html: string) => {
    const [row] = await db
      .insert(builds)
      .values({
        projectId: project.id,
        number: ++number,
        commitSha: String(number % 10).repeat(40),
        branch: ref.branch,
        pullRequest: ref.pullRequest ?? null,
        trigger: ref.pullRequest ? 'pull_request' : 'push',
        target: ref.branch === 'main' && !ref.pullRequest ? 'production' : 'preview',
        status: 'succeeded',
      })
      .returning();
    const artifactKey = `builds/${row!.id}/output.tar.gz`;
    await env.ARTIFACTS.put(artifactKey, await tarGz({ 'index.html': html }));
    await db.update(builds).set({ artifactKey }).where(eq(builds.id, row!.id));
    return { ...row!, artifactKey };
  };

  /** A build that went through the engine as the runner's success would send it. */
  const deployed = async (ref: { branch: string; pullRequest?: number }, html: string) => {
    const b = await build(ref, html);
    const result = await queue({
      type: 'build.succeeded',
      build_id: b.id,
      project_id: project.id,
      target: b.target,
      artifact_key: b.artifactKey,
    });
    expect(result.retryMessages).toEqual([]);
    const [row] = await db.select().from(deployments).where(eq(deployments.buildId, b.id));
    expect(row?.status).toBe('live');
    return row!;
  };

  const deliver = async (event: string, payload: unknown, id = crypto.randomUUID()) => {
    const body = JSON.stringify(atRepo(provider, payload, project.repo_url));
    const response = await fetchWorker(`/webhooks/${provider}/${project.id}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...deliveryHeaders(provider, event, id),
        ...(await signatureHeaders(provider, project.webhook_secret, body)),
      },
      body,
    });
    return { status: response.status, result: await response.json<DeliveryResult>(), id };
  };

  return { ...fixture, production, preview, build, deployed, deliver };
}

async function statusOf(id: string) {
  const [row] = await db
    .select({ status: deployments.status })
    .from(deployments)
    .where(eq(deployments.id, id));
  return row?.status;
}

async function transitionsOf(id: string) {
  return db
    .select()
    .from(deploymentTransitions)
    .where(eq(deploymentTransitions.deploymentId, id))
    .orderBy(asc(deploymentTransitions.at));
}

async function retiredAudits(ids: string[]) {
  return db
    .select()
    .from(auditLogs)
    .where(and(eq(auditLogs.action, 'deployment.retired'), inArray(auditLogs.targetId, ids)));
}

async function productionUrl(projectId: string) {
  const [row] = await db
    .select({ label: projects.hostLabel })
    .from(projects)
    .where(eq(projects.id, projectId));
  return `http://${row!.label}.localhost/`;
}

const urlOf = (deployment: Deployment) => `${deployment.url}/`;

function githubDelete(branch: string): Payload {
  return { ...githubExample('delete'), ref: branch, ref_type: 'branch' };
}

describe('retiring previews (GitHub)', () => {
  it('retires a deleted branch’s previews: their URLs answer 410, production and the rest serve on', async () => {
    const { owner, project, production, deployed, deliver } = await setup();
    const live = await deployed({ branch: 'main' }, 'production site');
    const first = await deployed({ branch: 'feature/x' }, 'feature x, first');
    const second = await deployed({ branch: 'feature/x' }, 'feature x, second');
    const other = await deployed({ branch: 'feature/y' }, 'feature y');
    // A pull request from the same branch retires with its pull request, not with the branch.
    const pr = await deployed({ branch: 'feature/x', pullRequest: 7 }, 'pull request 7');
    // The branch's output promoted to production: production, so never retired.
    const promoted = await requestDeployment(db, {
      requestKey: `test:${crypto.randomUUID()}`,
      buildId: second.buildId,
      projectId: project.id,
      environmentId: production.id,
      stage: 'production',
      manifestKey: second.manifestKey,
    });
    await queue({ type: 'deployment.requested', environment_id: production.id });
    expect(await statusOf(promoted.id)).toBe('live');
    expect(await (await visit(await productionUrl(project.id))).text()).toBe('feature x, second');

    const deleted = await deliver('delete', githubDelete('feature/x'));
    expect(deleted.status).toBe(200);
    expect(deleted.result.status).toBe('recorded');
    expect(deleted.result.reason).toBe('branch feature/x deleted: 2 preview deployments retired');
    expect(new Set(deleted.result.retired_deployment_ids)).toEqual(new Set([first.id, second.id]));

    for (const gone of [first, second]) {
      expect(await statusOf(gone.id)).toBe('retired');
      expect((await transitionsOf(gone.id)).at(-1)).toMatchObject({
        fromStatus: 'live',
        toStatus: 'retired',
        reason: 'branch feature/x deleted',
      });
      const response = await visit(urlOf(gone));
      expect(response.status).toBe(410);
      expect(response.headers.get('content-type')).toContain('text/html');
      expect(await response.text()).toContain('This preview has been retired');
    }
    expect(await (await visit(urlOf(other))).text()).toBe('feature y');
    expect(await (await visit(urlOf(pr))).text()).toBe('pull request 7');
    expect(await statusOf(live.id)).toBe('live');
    expect(await statusOf(promoted.id)).toBe('live');
    expect(await (await visit(await productionUrl(project.id))).text()).toBe('feature x, second');
    // The blobs stay: the promoted production deployment shares them.
    const [promotedRow] = await db
      .select()
      .from(deployments)
      .where(eq(deployments.id, promoted.id));
    expect(await (await visit(urlOf(promotedRow!))).text()).toBe('feature x, second');

    const audits = await retiredAudits([first.id, second.id]);
    expect(audits).toHaveLength(2);
    expect(audits[0]).toMatchObject({
      actorId: null,
      actorRole: 'system',
      result: 'success',
      metadata: expect.objectContaining({
        branch: 'feature/x',
        provider: 'github',
        delivery_id: deleted.id,
      }),
    });

    // The API shows them as retired, with the transition and its reason.
    const detail = await fetchWorker(`/api/deployments/${first.id}`, authed(owner.access_token));
    expect(detail.status).toBe(200);
    const body = await detail.json<{ status: string; transitions: { to: string }[] }>();
    expect(body.status).toBe('retired');
    expect(body.transitions.at(-1)).toMatchObject({
      from: 'live',
      to: 'retired',
      reason: 'branch feature/x deleted',
    });
    const list = await fetchWorker(
      `/api/projects/${project.id}/deployments?status=retired`,
      authed(owner.access_token),
    );
    const listed = await list.json<{ deployments: { id: string }[] }>();
    expect(new Set(listed.deployments.map((d) => d.id))).toEqual(new Set([first.id, second.id]));
  });

  it('is harmless when delivered again, or when the push event reports the same deletion', async () => {
    const { deployed, deliver } = await setup();
    const preview = await deployed({ branch: 'feature/z' }, 'z');
    const payload = githubDelete('feature/z');
    const first = await deliver('delete', payload);
    expect(first.result.retired_deployment_ids).toEqual([preview.id]);

    const again = await deliver('delete', payload, first.id);
    expect(again).toMatchObject({ status: 200, result: { status: 'duplicate' } });
    // GitHub also sends a push with `deleted: true` for the same deletion, under its own id.
    const push = await deliver('push', {
      ...githubExample('push', (p) => p.ref === 'refs/heads/master'),
      ref: 'refs/heads/feature/z',
      deleted: true,
      after: '0'.repeat(40),
      head_commit: null,
    });
    expect(push.status).toBe(200);
    expect(push.result).toMatchObject({
      status: 'recorded',
      reason: 'branch feature/z deleted: 0 preview deployments retired',
      retired_deployment_ids: [],
    });
    expect(await transitionsOf(preview.id)).toHaveLength(5);
    expect(await retiredAudits([preview.id])).toHaveLength(1);
    expect((await visit(urlOf(preview))).status).toBe(410);
  });

  it('retires a queued preview before it runs, and one still deploying once it is done', async () => {
    const { project, preview: previewEnv, build, deliver } = await setup();
    const waiting = await build({ branch: 'feature/w' }, 'waiting');
    const queued = await requestDeployment(db, {
      requestKey: `test:${crypto.randomUUID()}`,
      buildId: waiting.id,
      projectId: project.id,
      environmentId: previewEnv.id,
      stage: 'preview',
    });
    // Handed back mid-deploy (no started_at): the next delivery resumes it.
    const busy = await build({ branch: 'feature/w' }, 'in flight');
    const [inFlight] = await db
      .insert(deployments)
      .values({
        projectId: project.id,
        buildId: busy.id,
        environmentId: previewEnv.id,
        stage: 'preview',
        platform: 'edge',
        status: 'validating',
      })
      .returning();
    // Built, but its success reaches the engine only after the branch is gone.
    const late = await build({ branch: 'feature/w' }, 'late');

    const deleted = await deliver('delete', githubDelete('feature/w'));
    expect(deleted.result.retired_deployment_ids).toEqual([queued.id]);
    expect(await statusOf(queued.id)).toBe('retired');
    expect(await statusOf(inFlight!.id)).toBe('validating');

    await queue({ type: 'deployment.requested', environment_id: previewEnv.id });
    expect(await statusOf(inFlight!.id)).toBe('retired');
    expect((await transitionsOf(inFlight!.id)).map((t) => t.toStatus)).toEqual([
      'deploying',
      'verifying',
      'live',
      'retired',
    ]);
    expect((await transitionsOf(inFlight!.id)).at(-1)?.reason).toBe(
      'branch feature/w deleted while it was being deployed',
    );
    const [row] = await db.select().from(deployments).where(eq(deployments.id, inFlight!.id));
    expect((await visit(urlOf(row!))).status).toBe(410);
    expect(await retiredAudits([inFlight!.id])).toHaveLength(1);

    await queue({
      type: 'build.succeeded',
      build_id: late.id,
      project_id: project.id,
      target: 'preview',
      artifact_key: late.artifactKey,
    });
    expect(await db.select().from(deployments).where(eq(deployments.buildId, late.id))).toEqual([]);
  });

  it('never retires a preview an environment points at', async () => {
    const { preview: previewEnv, deployed, deliver } = await setup();
    const pinned = await deployed({ branch: 'feature/p' }, 'pinned');
    const loose = await deployed({ branch: 'feature/p' }, 'loose');
    await db
      .update(environments)
      .set({ liveDeploymentId: pinned.id })
      .where(eq(environments.id, previewEnv.id));
    const deleted = await deliver('delete', githubDelete('feature/p'));
    expect(deleted.result.retired_deployment_ids).toEqual([loose.id]);
    expect(await statusOf(pinned.id)).toBe('live');
    expect(await (await visit(urlOf(pinned))).text()).toBe('pinned');
  });

  it('retires a closed pull request’s previews and leaves its branch’s own', async () => {
    const { deployed, deliver } = await setup();
    const closed = githubExample('pull_request', (p) => p.action === 'closed');
    const branch = await deployed({ branch: 'changes' }, 'branch');
    const pr = await deployed({ branch: 'changes', pullRequest: 2 }, 'pull request');
    const result = await deliver('pull_request', closed);
    expect(result.result).toMatchObject({
      status: 'recorded',
      reason: 'pull request #2 closed: 1 preview deployment retired',
      retired_deployment_ids: [pr.id],
    });
    expect((await visit(urlOf(pr))).status).toBe(410);
    expect(await (await visit(urlOf(branch))).text()).toBe('branch');
  });
});

describe('retiring previews (GitLab and Gitea)', () => {
  it('retires on a merged merge request and on a push that deletes the branch', async () => {
    const { deployed, deliver } = await setup('gitlab');
    const mr = await deployed({ branch: 'ms-viewport', pullRequest: 1 }, 'merge request');
    const branch = await deployed({ branch: 'ms-viewport' }, 'branch');
    const merge = structuredClone(gitlabMergeRequest) as Payload;
    merge.object_attributes = { ...(merge.object_attributes as Payload), action: 'merge' };
    const merged = await deliver('Merge Request Hook', merge);
    expect(merged.result).toMatchObject({
      status: 'recorded',
      reason: 'pull request #1 merged: 1 preview deployment retired',
      retired_deployment_ids: [mr.id],
    });
    expect(await statusOf(branch.id)).toBe('live');

    const removal = await deliver('Push Hook', {
      ...gitlabPush,
      ref: 'refs/heads/ms-viewport',
      after: '0'.repeat(40),
      checkout_sha: null,
    });
    expect(removal.result.retired_deployment_ids).toEqual([branch.id]);
    expect((await visit(urlOf(branch))).status).toBe(410);
    expect((await visit(urlOf(mr))).status).toBe(410);
  });

  it('retires on a closed Gitea pull request', async () => {
    const { deployed, deliver } = await setup('gitea');
    const pr = await deployed({ branch: 'feature', pullRequest: 7 }, 'gitea pr');
    const closed = await deliver('pull_request', { ...giteaPullRequest, action: 'closed' });
    expect(closed.result.retired_deployment_ids).toEqual([pr.id]);
    expect((await visit(urlOf(pr))).status).toBe(410);
  });
});
