import { afterAll, describe, expect, it } from 'vitest';
import { as } from './api-client';
import { newUser } from './auth-helpers';
import { drain, siteDeployer } from './deploy-helpers';
import { testDb } from './harness';
import { projectFixture } from './project-fixtures';

const { db, pool } = testDb();
afterAll(() => pool.end());

interface Item {
  id: string;
  status: string;
  serving: boolean;
  build: { number: number; commit_sha: string | null; branch: string | null };
  environment: { id: string; name: string; kind: string };
}

describe('deployments as the dashboard lists them', () => {
  it('shows each deployment’s build, environment and whether it is the one serving', async () => {
    const { owner, project } = await projectFixture();
    const listed = await as(owner).get<{
      environments: { id: string; kind: 'production' | 'preview' }[];
    }>(`/api/projects/${project.id}/environments`);
    const production = listed.body.environments.find((e) => e.kind === 'production')!;
    const preview = listed.body.environments.find((e) => e.kind === 'preview')!;
    const deploy = siteDeployer(db, project.id, 'a'.repeat(40));
    const first = await deploy('one', production);
    await drain(production.id);
    const second = await deploy('two', production);
    await drain(production.id);
    const onPreview = await deploy('three', preview);
    await drain(preview.id);

    const list = await as(owner).get<{ deployments: Item[] }>(
      `/api/projects/${project.id}/deployments`,
    );
    expect(list.status, list.text).toBe(200);
    expect(
      list.body.deployments.map((d) => [d.id, d.build.number, d.environment.name, d.serving]),
    ).toEqual([
      [onPreview.id, 3, 'preview', true],
      [second.id, 2, 'production', true],
      // Still `live`, but replaced: not what production serves.
      [first.id, 1, 'production', false],
    ]);
    expect(list.body.deployments[2]).toMatchObject({
      status: 'live',
      build: { commit_sha: 'a'.repeat(40) },
      environment: { id: production.id, kind: 'production' },
    });

    const filtered = await as(owner).get<{ deployments: Item[] }>(
      `/api/projects/${project.id}/deployments?environment_id=${preview.id}`,
    );
    expect(filtered.body.deployments.map((d) => d.id)).toEqual([onPreview.id]);

    const detail = await as(owner).get<Item & { transitions: { to: string }[] }>(
      `/api/deployments/${first.id}`,
    );
    expect(detail.body).toMatchObject({
      serving: false,
      build: { number: 1 },
      environment: { name: 'production' },
    });
    expect(detail.body.transitions.at(-1)?.to).toBe('live');
  });

  it('rejects a malformed environment filter and hides other workspaces’ deployments', async () => {
    const { owner, project } = await projectFixture();
    const bad = await as(owner).get(`/api/projects/${project.id}/deployments?environment_id=nope`);
    expect(bad.status).toBe(400);
    const stranger = await newUser('stranger');
    const foreign = await as(stranger).get(`/api/projects/${project.id}/deployments`);
    expect(foreign.status).toBe(404);
  });
});
