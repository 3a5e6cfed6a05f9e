import { env } from 'cloudflare:test';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLogs, builds } from '../../db/schema';
import { as, seedTeam, type Team } from './api-client';
import {
  deliverPush,
  goodToken,
  type HostProvider,
  hookProject,
  storedHooks,
} from './git-host-helpers';
import { testDb } from './harness';
import { randomSha } from './webhook-helpers';

const { db, pool } = testDb();
afterAll(() => pool.end());

interface GitHook {
  installed: boolean;
  provider?: string;
  api_url?: string;
  repository?: string;
  hook_id?: number;
  url?: string;
  secret_current?: boolean;
  result?: 'created' | 'updated';
}

let team: Team;
beforeAll(async () => {
  team = await seedTeam();
});

const hookPath = (projectId: string) => `/api/projects/${projectId}/git-hook`;

async function auditActions(projectId: string) {
  const rows = await db
    .select({ action: auditLogs.action, metadata: auditLogs.metadata })
    .from(auditLogs)
    .where(and(eq(auditLogs.targetId, projectId), eq(auditLogs.targetType, 'project')));
  return rows;
}

describe.each(['gitlab', 'gitea'] as HostProvider[])(
  'the %s webhook, created by Sparki',
  (provider) => {
    it('is created with the project secret, shown, and a push it delivers builds', async () => {
      const { repo, project } = await hookProject(team.owner, team.workspace.id, provider);
      const token = await goodToken(provider, repo.path);
      const before = await as(team.viewer).get<GitHook>(hookPath(project.id));
      expect(before.body).toEqual({ installed: false });

      const created = await as(team.admin).post<GitHook>(hookPath(project.id), { token });
      expect(created.status, created.text).toBe(201);
      const url = `${env.PUBLIC_URL}/webhooks/${provider}/${project.id}`;
      expect(created.body).toMatchObject({
        installed: true,
        result: 'created',
        provider,
        api_url: repo.api_url,
        repository: repo.path,
        url,
        secret_current: true,
      });
      expect(created.text).not.toContain(token);

      const [hook, ...others] = await storedHooks(provider, repo.path);
      expect(others).toEqual([]);
      expect(hook).toMatchObject({ id: created.body.hook_id, url, secret: project.webhook_secret });
      expect(hook!.active).toBe(true);
      if (provider === 'gitlab') {
        expect(hook!.events).toEqual(['push', 'tag_push', 'merge_request']);
        expect(hook!.enableSslVerification).toBe(true);
      } else {
        expect(hook!.events).toEqual(['push', 'pull_request', 'delete']);
        expect(hook!.contentType).toBe('json');
      }

      const shown = await as(team.viewer).get<GitHook>(hookPath(project.id));
      expect(shown.body).toMatchObject({
        installed: true,
        hook_id: hook!.id,
        secret_current: true,
      });

      const sha = randomSha();
      const [answer] = await deliverPush(provider, repo.path, {
        ref: 'refs/heads/main',
        after: sha,
      });
      expect(answer).toMatchObject({ status: 202, body: { status: 'queued' } });
      const [build] = await db
        .select()
        .from(builds)
        .where(eq(builds.id, answer!.body.build_id as string));
      expect(build).toMatchObject({ projectId: project.id, commitSha: sha, trigger: 'push' });

      const audited = await auditActions(project.id);
      expect(audited.map((row) => row.action)).toContain('project.git_hook_created');
      expect(JSON.stringify(audited)).not.toContain(token);
    });

    it('is updated, not duplicated, when asked again, and takes a replaced secret', async () => {
      const { repo, project } = await hookProject(team.owner, team.workspace.id, provider);
      const token = await goodToken(provider, repo.path);
      const first = await as(team.owner).post<GitHook>(hookPath(project.id), { token });
      expect(first.status, first.text).toBe(201);
      const again = await as(team.owner).post<GitHook>(hookPath(project.id), { token });
      expect(again.status, again.text).toBe(200);
      expect(again.body).toMatchObject({ result: 'updated', hook_id: first.body.hook_id });
      expect(await storedHooks(provider, repo.path)).toHaveLength(1);

      const rotated = await as(team.owner).post<{ webhook_secret: string }>(
        `/api/projects/${project.id}/webhook-secret`,
      );
      expect(rotated.status).toBe(200);
      const stale = await as(team.viewer).get<GitHook>(hookPath(project.id));
      expect(stale.body.secret_current).toBe(false);
      // The old secret is refused from now on; creating the hook again hands over the new one.
      const refused = await deliverPush(provider, repo.path, {
        ref: 'refs/heads/main',
        after: randomSha(),
      });
      expect(refused.map((answer) => answer.status)).toEqual([401]);

      const renewed = await as(team.owner).post<GitHook>(hookPath(project.id), { token });
      expect(renewed.body).toMatchObject({ result: 'updated', secret_current: true });
      const hooks = await storedHooks(provider, repo.path);
      expect(hooks.map((hook) => hook.secret)).toEqual([rotated.body.webhook_secret]);
      const delivered = await deliverPush(provider, repo.path, {
        ref: 'refs/heads/feature',
        after: randomSha(),
      });
      expect(delivered).toMatchObject([{ status: 202, body: { status: 'queued' } }]);
      expect((await auditActions(project.id)).map((row) => row.action)).toContain(
        'project.git_hook_updated',
      );
    });

    it('is deleted on the provider with a token, or only forgotten without one', async () => {
      const { repo, project } = await hookProject(team.owner, team.workspace.id, provider);
      const token = await goodToken(provider, repo.path);
      await as(team.admin).post(hookPath(project.id), { token });

      const removed = await as(team.admin).delete<{ removed: string }>(hookPath(project.id), {
        token,
      });
      expect(removed.status, removed.text).toBe(200);
      expect(removed.body).toEqual({ removed: 'deleted' });
      expect(await storedHooks(provider, repo.path)).toEqual([]);
      expect((await as(team.viewer).get<GitHook>(hookPath(project.id))).body.installed).toBe(false);
      const again = await as(team.admin).delete(hookPath(project.id), { token });
      expect(again.status).toBe(404);

      await as(team.admin).post(hookPath(project.id), { token });
      const forgotten = await as(team.admin).delete<{ removed: string }>(hookPath(project.id));
      expect(forgotten.body).toEqual({ removed: 'forgotten' });
      expect(await storedHooks(provider, repo.path)).toHaveLength(1);

      // A hook deleted by hand on the provider meanwhile: gone already, and forgotten here too.
      const recreated = await as(team.admin).post<GitHook>(hookPath(project.id), { token });
      expect(recreated.body.result).toBe('updated');
      const [hook] = await storedHooks(provider, repo.path);
      const apiHook =
        provider === 'gitlab'
          ? `${recreated.body.api_url}/projects/${encodeURIComponent(repo.path)}/hooks/${hook!.id}`
          : `${recreated.body.api_url}/repos/${repo.path}/hooks/${hook!.id}`;
      const auth: Record<string, string> =
        provider === 'gitlab' ? { 'private-token': token } : { authorization: `token ${token}` };
      expect((await fetch(apiHook, { method: 'DELETE', headers: auth })).status).toBe(204);
      const gone = await as(team.admin).delete<{ removed: string }>(hookPath(project.id), {
        token,
      });
      expect(gone.body).toEqual({ removed: 'already_gone' });

      const actions = (await auditActions(project.id)).map((row) => row.action);
      expect(actions.filter((action) => action === 'project.git_hook_removed')).toHaveLength(3);
    });
  },
);
