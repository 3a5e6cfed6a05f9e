import { beforeAll, describe, expect, inject, it } from 'vitest';
import { anonymous, as, type ErrorEnvelope, seedTeam, type Team } from './api-client';
import {
  failRepo,
  goodToken,
  type HostProvider,
  hookProject,
  hostToken,
  storedHooks,
} from './git-host-helpers';

let team: Team;
beforeAll(async () => {
  team = await seedTeam();
});

const hookPath = (projectId: string) => `/api/projects/${projectId}/git-hook`;

interface ProviderError extends ErrorEnvelope {
  error: ErrorEnvelope['error'] & {
    details?: { reason?: string; required_scope?: string; provider_status?: number };
  };
}

async function createHook(projectId: string, body: unknown, caller = team.admin) {
  return as(caller).post<ProviderError>(hookPath(projectId), body);
}

const SCOPE = { gitlab: 'api', gitea: 'write:repository' };
const WEAK = {
  gitlab: { scopes: ['read_api'], role: 'maintainer', lowRole: 'developer' },
  gitea: { scopes: ['read:repository'], role: 'admin', lowRole: 'write' },
};

describe.each(['gitlab', 'gitea'] as HostProvider[])('%s refusals', (provider) => {
  it('a token the provider does not know: 400, naming the scope to create one with', async () => {
    const { repo, project } = await hookProject(team.owner, team.workspace.id, provider);
    const answer = await createHook(project.id, { token: 'not-a-token' });
    expect(answer.status, answer.text).toBe(400);
    expect(answer.body.error.code).toBe('bad_request');
    expect(answer.body.error.message).toContain(`the ${SCOPE[provider]} scope`);
    expect(answer.body.error.details).toMatchObject({
      reason: 'token_rejected',
      provider_status: 401,
      required_scope: SCOPE[provider],
    });
    expect(answer.body.request_id).toBeTruthy();
    expect(await storedHooks(provider, repo.path)).toEqual([]);
  });

  it('a token without the scope, or without the role: 403, saying what it needs', async () => {
    const { repo, project } = await hookProject(team.owner, team.workspace.id, provider);
    const weak = WEAK[provider];
    const readOnly = await hostToken(provider, weak.scopes, { [repo.path]: weak.role });
    const scoped = await createHook(project.id, { token: readOnly });
    expect(scoped.status, scoped.text).toBe(403);
    expect(scoped.body.error.message).toContain(`the ${SCOPE[provider]} scope`);
    expect(scoped.body.error.details).toMatchObject({ reason: 'insufficient_scope' });

    const lowRole = await hostToken(provider, [SCOPE[provider]], { [repo.path]: weak.lowRole });
    const roled = await createHook(project.id, { token: lowRole });
    expect(roled.status, roled.text).toBe(403);
    expect(roled.body.error.details).toMatchObject({ provider_status: 403 });
    expect(await storedHooks(provider, repo.path)).toEqual([]);
  });

  it('a repository the token cannot see: 404 repository not found', async () => {
    const { project } = await hookProject(team.owner, team.workspace.id, provider);
    const elsewhere = await goodToken(provider, 'someone/else');
    const answer = await createHook(project.id, { token: elsewhere });
    expect(answer.status, answer.text).toBe(404);
    expect(answer.body.error.message).toMatch(/^Repository team-\w+\/site not found/);
    expect(answer.body.error.details).toMatchObject({ reason: 'repository_not_found' });
  });

  it('a provider that fails, is not there, or redirects: 502', async () => {
    const { repo, project } = await hookProject(team.owner, team.workspace.id, provider);
    const token = await goodToken(provider, repo.path);
    await failRepo(provider, repo.path, 500);
    const failing = await createHook(project.id, { token });
    expect(failing.status, failing.text).toBe(502);
    expect(failing.body.error).toMatchObject({
      code: 'bad_gateway',
      details: { reason: 'provider_error', provider_status: 500 },
    });
    await failRepo(provider, repo.path, 0);

    const api = provider === 'gitlab' ? '/api/v4' : '/api/v1';
    const closed = await createHook(project.id, { token, api_url: `http://127.0.0.1:9${api}` });
    expect(closed.status, closed.text).toBe(502);
    expect(closed.body.error.details).toMatchObject({ reason: 'unreachable' });

    const moved = `${inject('gitHostUrl')}/moved${api}`;
    const redirected = await createHook(project.id, { token, api_url: moved });
    expect(redirected.status, redirected.text).toBe(502);
    expect(redirected.body.error.details).toMatchObject({ reason: 'redirect' });
    expect(await storedHooks(provider, repo.path)).toEqual([]);
  });

  it('a deletion the provider refuses keeps the hook recorded', async () => {
    const { repo, project } = await hookProject(team.owner, team.workspace.id, provider);
    const token = await goodToken(provider, repo.path);
    expect((await createHook(project.id, { token })).status).toBe(201);
    const refused = await as(team.admin).delete<ProviderError>(hookPath(project.id), {
      token: 'revoked',
    });
    expect(refused.status, refused.text).toBe(400);
    expect(refused.body.error.details).toMatchObject({ reason: 'token_rejected' });
    const shown = await as(team.viewer).get<{ installed: boolean }>(hookPath(project.id));
    expect(shown.body.installed).toBe(true);
    expect(await storedHooks(provider, repo.path)).toHaveLength(1);
  });
});

describe('what Sparki refuses before calling anyone', () => {
  it('API URLs on private networks or over plain http, and loopback outside development', async () => {
    const { repo, project } = await hookProject(team.owner, team.workspace.id, 'gitlab');
    const token = await goodToken('gitlab', repo.path);
    for (const api_url of [
      'http://10.0.0.8/api/v4',
      'https://169.254.169.254/api/v4',
      'https://gitlab.internal/api/v4',
      'https://user:pw@gitlab.example.com/api/v4',
    ]) {
      const answer = await createHook(project.id, { token, api_url });
      expect(answer.status, `${api_url}: ${answer.text}`).toBe(400);
      expect(answer.body.error.code).toBe('validation_failed');
    }
    // Production: the stand-in on 127.0.0.1 (the repository's own host) is off limits.
    const production = { APP_ENV: 'production', RESEND_API_KEY: 're_test', MAIL_FROM: 'a@b.c' };
    const inProduction = await as(team.admin, { env: production }).post<ProviderError>(
      hookPath(project.id),
      { token },
    );
    expect(inProduction.status, inProduction.text).toBe(400);
    expect(inProduction.body.error.message).toMatch(/https/);
    expect(await storedHooks('gitlab', repo.path)).toEqual([]);
  });

  it('projects that are not on GitLab or Gitea, and requests without a token', async () => {
    for (const [git_provider, repo_url] of [
      ['github', 'https://github.com/acme/site.git'],
      ['none', 'https://gitlab.com/acme/site.git'],
      ['gitlab', '/home/me/site'],
      ['gitlab', null],
    ] as const) {
      const created = await as(team.owner).post<{ id: string }>(
        `/api/workspaces/${team.workspace.id}/projects`,
        { name: 'x', slug: `x-${crypto.randomUUID().slice(0, 8)}`, git_provider, repo_url },
      );
      const answer = await createHook(created.body.id, { token: 'glpat-x' });
      expect(answer.status, `${git_provider} ${repo_url}: ${answer.text}`).toBe(400);
      expect(answer.body.error.code).toBe('validation_failed');
    }
    const { project } = await hookProject(team.owner, team.workspace.id, 'gitea');
    const missing = await createHook(project.id, {});
    expect(missing.status).toBe(400);
    expect(missing.body.error.code).toBe('validation_failed');
    const bad = await createHook(project.id, { token: 'x', api_url: 'not a url' });
    expect(bad.status).toBe(400);
  });

  it('callers who may not: 401 anonymous, 403 below admin, 404 outsiders', async () => {
    const { project } = await hookProject(team.owner, team.workspace.id, 'gitlab');
    expect((await anonymous.post(hookPath(project.id), { token: 't' })).status).toBe(401);
    expect((await anonymous.get(hookPath(project.id))).status).toBe(401);
    expect((await createHook(project.id, { token: 't' }, team.developer)).status).toBe(403);
    expect((await as(team.developer).delete(hookPath(project.id))).status).toBe(403);
    expect((await createHook(project.id, { token: 't' }, team.outsider)).status).toBe(404);
    expect((await as(team.outsider).get(hookPath(project.id))).status).toBe(404);
    const nothing = await as(team.admin).delete<ErrorEnvelope>(hookPath(project.id));
    expect(nothing.status).toBe(404);
    expect(nothing.body.error.message).toMatch(/No webhook was created through Sparki/);
  });
});
