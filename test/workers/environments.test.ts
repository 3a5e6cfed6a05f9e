import { env } from 'cloudflare:test';
import { and, eq, inArray } from 'drizzle-orm';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_ENV_VAR_VALUE_BYTES, MAX_ENV_VARS } from '../../core/project-settings';
import { decryptSecret } from '../../core/secret-box';
import { auditLogs, environments } from '../../db/schema';
import { as } from './api-client';
import { newUser } from './auth-helpers';
import { testDb } from './harness';
import { addMember, projectFixture } from './project-fixtures';

const { db, pool } = testDb();
afterAll(() => pool.end());
afterEach(() => vi.restoreAllMocks());

interface Variable {
  name: string;
  secret: boolean;
  value?: string;
  updated_at: string | null;
}

async function setup() {
  const fixture = await projectFixture();
  const developer = await newUser('dev');
  const viewer = await newUser('viewer');
  await addMember(db, fixture.workspace.id, developer.email, 'developer');
  await addMember(db, fixture.workspace.id, viewer.email, 'viewer');
  const base = `/api/projects/${fixture.project.id}/environments`;
  return { ...fixture, developer, viewer, base };
}

async function stored(projectId: string, name: string) {
  const [row] = await db
    .select()
    .from(environments)
    .where(and(eq(environments.projectId, projectId), eq(environments.name, name)));
  return row!;
}

describe('environment variables and secrets', () => {
  it('keeps a secret write-only: no response, list or log line ever holds its value', async () => {
    const { developer, viewer, base, project } = await setup();
    const secret = `sk_live_${crypto.randomUUID()}`;
    const logged: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: unknown) => logged.push(String(line)));

    const set = await as(developer).put(`${base}/preview/variables/API_KEY`, {
      value: secret,
      secret: true,
    });
    expect(set.status).toBe(200);
    const setText = set.text;
    expect(setText).not.toContain(secret);
    expect(JSON.parse(setText)).toEqual({
      name: 'API_KEY',
      secret: true,
      updated_at: expect.any(String),
    });

    const list = await as(viewer).get(base);
    expect(list.status).toBe(200);
    const listText = list.text;
    expect(listText).not.toContain(secret);
    const preview = JSON.parse(listText).environments.find(
      (e: { name: string }) => e.name === 'preview',
    );
    expect(preview.variables).toEqual([
      { name: 'API_KEY', secret: true, updated_at: expect.any(String) },
    ]);
    expect(logged.length).toBeGreaterThan(0);
    expect(logged.join('\n')).not.toContain(secret);

    // At rest: AES-GCM under the platform key, nothing readable in the row.
    const row = await stored(project.id, 'preview');
    expect(JSON.stringify(row.envVars)).not.toContain(secret);
    expect(await decryptSecret(env.ENCRYPTION_KEY, row.envVars.API_KEY!.encrypted)).toBe(secret);

    const audits = await db
      .select()
      .from(auditLogs)
      .where(and(eq(auditLogs.action, 'env_var.set'), eq(auditLogs.targetId, row.id)));
    expect(audits).toHaveLength(1);
    expect(audits[0]?.metadata).toMatchObject({
      environment: 'preview',
      name: 'API_KEY',
      secret: true,
    });
    expect(JSON.stringify(audits)).not.toContain(secret);
  });

  it('returns plain variables, encrypted at rest all the same', async () => {
    const { developer, viewer, base, project } = await setup();
    const set = await as(developer).put<Variable>(`${base}/production/variables/NODE_ENV`, {
      value: 'production',
    });
    expect(set.body).toMatchObject({ secret: false, value: 'production' });
    const list = (
      await as(viewer).get<{
        environments: { name: string; variables: Variable[] }[];
      }>(base)
    ).body;
    const production = list.environments.find((e) => e.name === 'production')!;
    expect(production.variables).toEqual([
      { name: 'NODE_ENV', secret: false, value: 'production', updated_at: expect.any(String) },
    ]);
    const row = await stored(project.id, 'production');
    expect(row.envVars.NODE_ENV?.encrypted).toMatch(/^v1\./);
  });

  it('deletes a variable with an audit row, and 404s a second time', async () => {
    const { developer, base, project } = await setup();
    const path = `${base}/preview/variables/TOKEN`;
    await as(developer).put(path, { value: 'x', secret: true });
    expect((await as(developer).delete(path)).status).toBe(200);
    expect((await as(developer).delete(path)).status).toBe(404);
    expect((await stored(project.id, 'preview')).envVars).toEqual({});
    const [audit] = await db
      .select()
      .from(auditLogs)
      .where(
        and(
          eq(auditLogs.action, 'env_var.deleted'),
          eq(auditLogs.targetId, (await stored(project.id, 'preview')).id),
        ),
      );
    expect(audit?.metadata).toMatchObject({ name: 'TOKEN' });
  });

  it('checks roles: a viewer cannot write, a stranger sees nothing', async () => {
    const { viewer, base } = await setup();
    const stranger = await newUser('stranger');
    const path = `${base}/preview/variables/X`;
    expect((await as(viewer).put(path, { value: '1' })).status).toBe(403);
    expect((await as(viewer).delete(path)).status).toBe(403);
    expect((await as(stranger).get(base)).status).toBe(404);
    expect((await as(stranger).put(path, { value: '1' })).status).toBe(404);
  });

  it('validates names, value sizes, the environment and the variable count', async () => {
    const { developer, base, project } = await setup();
    const put = (environment: string, name: string, value: string) =>
      as(developer).put(`${base}/${environment}/variables/${name}`, { value });
    expect((await put('preview', '1BAD', 'x')).status).toBe(400);
    expect((await put('preview', 'BAD-NAME', 'x')).status).toBe(400);
    expect((await put('preview', 'BIG', 'x'.repeat(MAX_ENV_VAR_VALUE_BYTES + 1))).status).toBe(400);
    expect((await put('staging', 'OK', 'x')).status).toBe(404);

    const full = Object.fromEntries(
      Array.from({ length: MAX_ENV_VARS }, (_, i) => [
        `V${i}`,
        { encrypted: 'v1.x.y', secret: false },
      ]),
    );
    await db
      .update(environments)
      .set({ envVars: full })
      .where(and(eq(environments.projectId, project.id), inArray(environments.name, ['preview'])));
    expect((await put('preview', 'ONE_MORE', 'x')).status).toBe(409);
    // Replacing one that exists is still allowed.
    expect((await put('preview', 'V0', 'x')).status).toBe(200);
  });
});
