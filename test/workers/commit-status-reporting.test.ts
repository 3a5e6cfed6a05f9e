import { env } from 'cloudflare:test';
import { eq } from 'drizzle-orm';
import { exportPKCS8, exportSPKI, generateKeyPair } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { encryptSecret } from '../../core/secret-box';
import { builds, deployments, environments, projects, workspaces } from '../../db/schema';
import { drainEnvironment } from '../../domain/deployments/queue';
import { requestDeployment } from '../../domain/deployments/request';
import { createLogger } from '../../platform/logger';
import { createServices } from '../../platform/services';
import { as } from './api-client';
import { newUser } from './auth-helpers';
import { type ForgeRequest, fakeForge, GITEA_TOKEN, GITHUB_API, GITLAB_TOKEN } from './fake-forge';
import { testDb } from './harness';
import { addMember, projectFixture } from './project-fixtures';
import { tarGz } from './tar-fixture';

const { db, pool } = testDb();
afterAll(() => pool.end());

const keys = await generateKeyPair('RS256', { extractable: true });
const PRIVATE_KEY = await exportPKCS8(keys.privateKey);
const APP = { id: '1234', installationId: 42, publicKeyPem: await exportSPKI(keys.publicKey) };

type Provider = 'github' | 'gitlab' | 'gitea';

const HOSTS: Record<Provider, string> = {
  github: 'github.com',
  gitlab: 'gitlab.example.com',
  gitea: 'gitea.example.com',
};

async function seed(input: {
  provider: Provider;
  credentials: Record<string, unknown>;
  pullRequest?: number;
  requiredEnv?: string[];
}) {
  const suffix = crypto.randomUUID().slice(0, 8);
  const [workspace] = await db
    .insert(workspaces)
    .values({ name: 'Report', slug: `report-${suffix}` })
    .returning();
  const [project] = await db
    .insert(projects)
    .values({
      workspaceId: workspace!.id,
      name: 'Site',
      slug: `site-${suffix}`,
      gitProvider: input.provider,
      repoUrl: `https://${HOSTS[input.provider]}/acme/site-${suffix}`,
      gitCredentialsEncrypted: await encryptSecret(
        env.ENCRYPTION_KEY,
        JSON.stringify(input.credentials),
      ),
    })
    .returning();
  const [preview] = await db
    .insert(environments)
    .values({
      projectId: project!.id,
      name: 'preview',
      kind: 'preview',
      deployConfig: {
        health_check: { retries: 0, interval_ms: 0 },
        required_env: input.requiredEnv ?? [],
      },
    })
    .returning();
  const repo = `acme/site-${suffix}`;
  const first = await previewOf(project!.id, preview!.id, 1, input.pullRequest);
  return { repo, project: project!, preview: preview!, ...first };
}

/** Build `number` of the project (on the pull request, if any), built and queued for preview. */
async function previewOf(
  projectId: string,
  environmentId: string,
  number: number,
  pullRequest?: number,
) {
  const sha = crypto
    .randomUUID()
    .replaceAll('-', '')
    .padEnd(40, String(number % 10));
  const [build] = await db
    .insert(builds)
    .values({
      projectId,
      number,
      commitSha: sha,
      trigger: pullRequest ? 'pull_request' : 'push',
      pullRequest: pullRequest ?? null,
      status: 'succeeded',
    })
    .returning();
  const artifactKey = `builds/${build!.id}/output.tar.gz`;
  await env.ARTIFACTS.put(artifactKey, await tarGz({ 'index.html': `<h1>build ${number}</h1>` }));
  await db.update(builds).set({ artifactKey }).where(eq(builds.id, build!.id));
  const deployment = await requestDeployment(db, {
    requestKey: `test:${build!.id}`,
    buildId: build!.id,
    projectId,
    environmentId,
    stage: 'preview',
  });
  return { sha, build: build!, deployment };
}

function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({}, 'warn', (line) => lines.push(JSON.parse(line)));
  return { logger, events: () => lines.map((line) => line.event) };
}

function drain(
  environmentId: string,
  fetch: (request: Request) => Promise<Response>,
  logger = createLogger({}, 'error'),
) {
  const { services } = createServices(env);
  const context = { env, services, logger };
  return drainEnvironment(context, environmentId, { fetch });
}

async function reload(id: string) {
  const [row] = await db.select().from(deployments).where(eq(deployments.id, id));
  return row!;
}

const githubApp = {
  kind: 'github_app',
  app_id: APP.id,
  private_key_pem: PRIVATE_KEY,
  installation_id: APP.installationId,
  api_base: GITHUB_API,
};
const gitlabToken = { kind: 'token', token: GITLAB_TOKEN };
const giteaToken = { kind: 'token', token: GITEA_TOKEN };

const calls = (forge: ReturnType<typeof fakeForge>) =>
  forge.seen.map((r) => `${r.method} ${r.url.pathname}${r.url.search}`);

describe('reporting deployments back to the repository', () => {
  it('sets a GitHub commit status through the App and comments the preview URL on the PR', async () => {
    const forge = fakeForge({ app: APP });
    const { repo, sha, preview, deployment } = await seed({
      provider: 'github',
      credentials: githubApp,
      pullRequest: 7,
    });
    await drain(preview.id, forge.fetch);

    const live = await reload(deployment.id);
    expect(live.status).toBe('live');
    expect(calls(forge)).toEqual([
      'POST /app/installations/42/access_tokens',
      `POST /repos/${repo}/statuses/${sha}`,
      `GET /repos/${repo}/issues/7/comments?per_page=100`,
      `POST /repos/${repo}/issues/7/comments`,
    ]);
    expect(forge.seen[1]!.body).toEqual({
      state: 'success',
      context: 'sparki/deploy (preview)',
      description: 'Live on preview',
      target_url: live.url,
    });
    const [comment] = forge.comments(`github:${repo}#7`);
    expect(comment!.body).toBe(
      `<!-- sparki:preview ${preview.id} -->\nPreview of ${sha.slice(0, 7)} (build #1) is live: ${live.url}`,
    );
  });

  it('reports a failed deployment to GitLab with the project token', async () => {
    const forge = fakeForge();
    const { repo, sha, preview, deployment } = await seed({
      provider: 'gitlab',
      credentials: gitlabToken,
      requiredEnv: ['API_URL'],
    });
    // No api_base: GitLab's API is found on the repository's own host.
    await drain(preview.id, forge.fetch);

    expect((await reload(deployment.id)).status).toBe('failed');
    expect(forge.seen).toHaveLength(1);
    const [call] = forge.seen;
    expect(call!.method).toBe('POST');
    expect(call!.url.origin).toBe('https://gitlab.example.com');
    expect(call!.url.pathname).toBe(`/api/v4/projects/${encodeURIComponent(repo)}/statuses/${sha}`);
    expect(call!.headers.get('private-token')).toBe(GITLAB_TOKEN);
    expect(call!.url.searchParams.get('state')).toBe('failed');
    expect(call!.url.searchParams.get('name')).toBe('sparki/deploy (preview)');
    expect(call!.url.searchParams.get('description')).toContain('API_URL');
  });

  it('never fails the deployment when the provider is down', async () => {
    const forge = fakeForge({ app: APP, fail: () => 500 });
    const { preview, deployment } = await seed({
      provider: 'github',
      credentials: githubApp,
      pullRequest: 3,
    });
    const { logger, events } = capturingLogger();
    await drain(preview.id, forge.fetch, logger);
    expect((await reload(deployment.id)).status).toBe('live');
    expect(forge.seen).toHaveLength(1);
    expect(events()).toContain('commit_status_failed');
  });
});

describe('one preview comment per pull request, kept up to date', () => {
  it('GitHub: the second preview edits the first comment, found past the first page', async () => {
    const forge = fakeForge({ app: APP });
    const { repo, project, preview, deployment } = await seed({
      provider: 'github',
      credentials: githubApp,
      pullRequest: 9,
    });
    const thread = forge.comments(`github:${repo}#9`);
    const chatter = (from: number, count: number) =>
      Array.from({ length: count }, (_, i) => ({ id: from + i, body: `comment ${from + i}` }));
    thread.push(...chatter(1, 120));
    // Someone quoting Sparki's marker mid-comment does not make it Sparki's comment.
    thread.push({ id: 500, body: `see <!-- sparki:preview ${preview.id} --> above` });
    await drain(preview.id, forge.fetch);
    const sparki = thread.at(-1)!;
    expect(sparki.body).toContain((await reload(deployment.id)).url!);
    thread.push(...chatter(600, 30));

    const second = await previewOf(project.id, preview.id, 2, 9);
    forge.seen.length = 0;
    await drain(preview.id, forge.fetch);

    const url = (await reload(second.deployment.id)).url!;
    expect(calls(forge)).toEqual([
      'POST /app/installations/42/access_tokens',
      `POST /repos/${repo}/statuses/${second.sha}`,
      `GET /repos/${repo}/issues/9/comments?per_page=100`,
      `GET /repos/${repo}/issues/9/comments?per_page=100&page=2`,
      `PATCH /repos/${repo}/issues/comments/${sparki.id}`,
    ]);
    expect(forge.seen.at(-1)!.headers.get('authorization')).toBe('Bearer ghs_installation');
    expect(thread.filter((comment) => comment.body.startsWith('<!-- sparki:'))).toEqual([
      {
        id: sparki.id,
        body: `<!-- sparki:preview ${preview.id} -->\nPreview of ${second.sha.slice(0, 7)} (build #2) is live: ${url}`,
      },
    ]);
    expect(thread).toHaveLength(152);
  });

  it('GitLab: one merge request note, posted then edited with PUT', async () => {
    const forge = fakeForge();
    const { repo, project, preview } = await seed({
      provider: 'gitlab',
      credentials: gitlabToken,
      pullRequest: 4,
    });
    const notes = forge.comments(`gitlab:${repo}!4`);
    notes.push({ id: 1, body: 'added 1 commit', system: true });
    await drain(preview.id, forge.fetch);
    const second = await previewOf(project.id, preview.id, 2, 4);
    forge.seen.length = 0;
    await drain(preview.id, forge.fetch);

    const notesPath = `/api/v4/projects/${encodeURIComponent(repo)}/merge_requests/4/notes`;
    expect(calls(forge)).toEqual([
      `POST /api/v4/projects/${encodeURIComponent(repo)}/statuses/${second.sha}${forge.seen[0]!.url.search}`,
      `GET ${notesPath}?per_page=100&sort=asc&order_by=created_at`,
      `PUT ${notesPath}/${notes[1]!.id}`,
    ]);
    expect(notes).toHaveLength(2);
    expect(notes[1]!.body).toMatch(
      new RegExp(
        `^<!-- sparki:preview ${preview.id} -->\nPreview of ${second.sha.slice(0, 7)} \\(build #2\\)`,
      ),
    );
  });

  it('Gitea: one pull request comment, posted then edited with PATCH', async () => {
    const forge = fakeForge();
    const { repo, project, preview, sha } = await seed({
      provider: 'gitea',
      credentials: giteaToken,
      pullRequest: 11,
    });
    await drain(preview.id, forge.fetch);
    expect(calls(forge)).toEqual([
      `POST /api/v1/repos/${repo}/statuses/${sha}`,
      `GET /api/v1/repos/${repo}/issues/11/comments`,
      `POST /api/v1/repos/${repo}/issues/11/comments`,
    ]);
    expect(forge.seen[0]!.headers.get('authorization')).toBe(`token ${GITEA_TOKEN}`);
    const comments = forge.comments(`gitea:${repo}#11`);
    const [first] = comments;

    const second = await previewOf(project.id, preview.id, 2, 11);
    forge.seen.length = 0;
    await drain(preview.id, forge.fetch);
    expect(calls(forge).at(-1)).toBe(`PATCH /api/v1/repos/${repo}/issues/comments/${first!.id}`);
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body).toContain(`Preview of ${second.sha.slice(0, 7)} (build #2)`);
  });

  it('posts a new comment when the old one was deleted between listing and editing', async () => {
    const forge = fakeForge({
      app: APP,
      fail: (r) => (r.method === 'PATCH' ? 404 : undefined),
    });
    const { repo, project, preview } = await seed({
      provider: 'github',
      credentials: githubApp,
      pullRequest: 5,
    });
    await drain(preview.id, forge.fetch);
    await previewOf(project.id, preview.id, 2, 5);
    forge.seen.length = 0;
    await drain(preview.id, forge.fetch);
    expect(calls(forge).slice(-2)).toEqual([
      `PATCH /repos/${repo}/issues/comments/${forge.comments(`github:${repo}#5`)[0]!.id}`,
      `POST /repos/${repo}/issues/5/comments`,
    ]);
  });

  it('a refused edit, listing or comment is logged and never fails the deployment', async () => {
    const refusals: [string, (r: ForgeRequest) => number | undefined, boolean][] = [
      ['edit refused', (r) => (r.method === 'PATCH' ? 403 : undefined), true],
      ['listing down', (r) => (r.method === 'GET' ? 502 : undefined), false],
      [
        'comment refused',
        (r) => (r.method === 'POST' && r.url.pathname.endsWith('/comments') ? 403 : undefined),
        false,
      ],
    ];
    for (const [what, fail, existing] of refusals) {
      const forge = fakeForge({ app: APP, fail });
      const { repo, preview, deployment, sha } = await seed({
        provider: 'github',
        credentials: githubApp,
        pullRequest: 8,
      });
      if (existing) {
        forge
          .comments(`github:${repo}#8`)
          .push({ id: 77, body: `<!-- sparki:preview ${preview.id} -->\nan older preview` });
      }
      const { logger, events } = capturingLogger();
      await drain(preview.id, forge.fetch, logger);
      expect([what, (await reload(deployment.id)).status]).toEqual([what, 'live']);
      expect([what, events()]).toEqual([what, ['pull_request_comment_failed']]);
      // The status went out all the same.
      expect([what, forge.statuses.map((status) => status.sha)]).toEqual([what, [sha]]);
    }
  });

  it('still comments when the commit status is refused', async () => {
    const forge = fakeForge({
      app: APP,
      fail: (r) => (r.url.pathname.includes('/statuses/') ? 422 : undefined),
    });
    const { repo, preview } = await seed({
      provider: 'github',
      credentials: githubApp,
      pullRequest: 6,
    });
    const { logger, events } = capturingLogger();
    await drain(preview.id, forge.fetch, logger);
    expect(events()).toEqual(['commit_status_failed']);
    expect(forge.comments(`github:${repo}#6`)).toHaveLength(1);
  });

  it('gives up on a comment listing that is not a list, or a network that fails', async () => {
    const forge = fakeForge({ app: APP });
    const { preview } = await seed({ provider: 'github', credentials: githubApp, pullRequest: 2 });
    const odd = capturingLogger();
    await drain(
      preview.id,
      async (request) =>
        request.method === 'GET' ? Response.json({ message: 'not a list' }) : forge.fetch(request),
      odd.logger,
    );
    expect(odd.events()).toEqual(['pull_request_comment_failed']);
    expect(
      forge.seen.filter((r) => r.method === 'POST' && r.url.pathname.endsWith('/comments')),
    ).toEqual([]);

    const again = await seed({ provider: 'github', credentials: githubApp, pullRequest: 2 });
    const offline = capturingLogger();
    await drain(
      again.preview.id,
      async () => {
        throw new TypeError('Network connection lost.');
      },
      offline.logger,
    );
    expect((await reload(again.deployment.id)).status).toBe('live');
    expect(offline.events()).toEqual(['commit_status_failed']);
  });
});

describe('the git reporting settings API', () => {
  it('stores the App credentials encrypted, shows only their public part, admins only', async () => {
    const { owner, workspace, project } = await projectFixture({ provider: 'github' });
    const viewer = await newUser('viewer');
    await addMember(db, workspace.id, viewer.email, 'viewer');
    const path = `/api/projects/${project.id}/git-reporting`;

    expect((await as(viewer).get(path)).body).toEqual({
      configured: false,
    });
    expect((await as(viewer).put(path, githubApp)).status).toBe(403);
    const wrongKind = await as(owner).put(path, { kind: 'token', token: 'x' });
    expect(wrongKind.status).toBe(400);

    const set = await as(owner).put(path, githubApp);
    const text = set.text;
    expect(set.status, text).toBe(200);
    expect(text).not.toContain('PRIVATE KEY');
    expect(JSON.parse(text)).toEqual({
      configured: true,
      kind: 'github_app',
      app_id: '1234',
      installation_id: 42,
      api_base: 'https://github.test',
    });
    const [row] = await db.select().from(projects).where(eq(projects.id, project.id));
    expect(row!.gitCredentialsEncrypted).not.toContain('PRIVATE KEY');

    expect((await as(owner).delete(path)).status).toBe(204);
    expect((await as(viewer).get(path)).body).toEqual({
      configured: false,
    });
  });
});
