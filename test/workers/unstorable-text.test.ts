import { and, eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { environments } from '../../db/schema';
import { type ApiResponse, anonymous, as } from './api-client';
import { createWorkspace, newUser } from './auth-helpers';
import { testDb } from './harness';

const { db, pool } = testDb();
afterAll(() => pool.end());

// Postgres stores neither U+0000 in text nor a `\u0000` escape in jsonb, and an unpaired UTF-16
// surrogate has no UTF-8 form: the driver would silently store U+FFFD in its place.
const NUL = '\u0000';
const LONE_SURROGATE = '\ud800';

interface Refusal {
  error: { code: string; details: { fields: { path: string; code: string }[] } };
}

function expectRefused(response: ApiResponse<unknown>, path: string) {
  expect(response.status, response.text).toBe(400);
  const body = response.body as Refusal;
  expect(body.error.code).toBe('validation_failed');
  expect(body.error.details.fields).toContainEqual(
    expect.objectContaining({ path, code: 'unstorable_text' }),
  );
}

const project = (name: string) => ({
  name,
  slug: `app-${crypto.randomUUID().slice(0, 6)}`,
  git_provider: 'github',
  repo_url: 'https://github.com/acme/web',
});

async function ownerWithProject() {
  const owner = await newUser('nul');
  const workspace = await createWorkspace(owner.access_token);
  const response = await as(owner).post<{ id: string }>(
    `/api/workspaces/${workspace.id}/projects`,
    project('Shop'),
  );
  expect(response.status, response.text).toBe(201);
  const { id } = response.body;
  return { token: owner.access_token, workspace, projectId: id };
}

describe('text Postgres cannot store', () => {
  it('refuses U+0000 or an unpaired surrogate in a JSON body with 400 naming the field', async () => {
    const { token, workspace } = await ownerWithProject();
    const path = `/api/workspaces/${workspace.id}/projects`;
    expectRefused(await as(token).post(path, project(`Web${NUL}app`)), 'name');
    expectRefused(await as(token).post(path, project(`Web${LONE_SURROGATE}`)), 'name');
    expectRefused(
      await anonymous.post('/api/auth/signup', {
        email: `nul-${crypto.randomUUID().slice(0, 8)}@example.com`,
        password: 'correct horse battery staple',
        display_name: `Ada${NUL}`,
      }),
      'display_name',
    );
  });

  it('refuses it in a query filter', async () => {
    const { token, workspace, projectId } = await ownerWithProject();
    expectRefused(
      await as(token).get(`/api/workspaces/${workspace.id}/audit-log?action=project.%00`),
      'action',
    );
    expectRefused(
      await as(token).get(`/api/projects/${projectId}/builds?branch=main%00`),
      'branch',
    );
  });

  it('refuses it in an object key, naming the key', async () => {
    const { token, projectId } = await ownerWithProject();
    const [production] = await db
      .select({ id: environments.id })
      .from(environments)
      .where(and(eq(environments.projectId, projectId), eq(environments.kind, 'production')));
    expectRefused(
      await as(token).patch(`/api/environments/${production!.id}/deploy-settings`, {
        deploy_config: { adapter: { [`region${NUL}`]: 'eu' } },
      }),
      `deploy_config.adapter.region${NUL}`,
    );
  });

  it('accepts other control characters and characters outside the BMP', async () => {
    const { token, workspace } = await ownerWithProject();
    const name = 'Shop\t🚀 ü';
    const response = await as(token).post<{ name: string }>(
      `/api/workspaces/${workspace.id}/projects`,
      {
        ...project(name),
      },
    );
    expect(response.status, response.text).toBe(201);
    expect(response.body.name).toBe(name);
  });
});
