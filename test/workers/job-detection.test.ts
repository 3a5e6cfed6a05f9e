import { env } from 'cloudflare:test';
import { eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { encryptSecret } from '../../core/secret-box';
import { environments, projects } from '../../db/schema';
import { testDb } from './harness';
import { leasedJob } from './runner-helpers';

const { db, pool } = testDb();
afterAll(() => pool.end());

const VITE = {
  root_dir: 'apps/web',
  framework: 'vite-react',
  framework_evidence: 'package.json depends on vite and @vitejs/plugin-react',
  package_manager: 'pnpm',
  install_command: 'pnpm install --frozen-lockfile',
  build_command: 'pnpm run build',
  output_directory: 'dist',
  runtime: 'node',
};

interface ShownProject {
  framework: string | null;
  detection: (typeof VITE & { build_id: string; build_number: number }) | null;
  updated_at: string;
}

describe('what a build detected', () => {
  it('is recorded on the project, naming the build, and shown in the API', async () => {
    const { build, project, post, owner } = await leasedJob(db, { number: 3 });
    const before = await owner.get<ShownProject>(`/api/projects/${project.id}`);
    expect(before.body).toMatchObject({ framework: null, detection: null });

    const reported = await post('/detection', VITE);
    expect(reported.status, reported.text).toBe(200);
    expect(reported.body).toEqual({ recorded: true });

    const shown = await owner.get<ShownProject>(`/api/projects/${project.id}`);
    expect(shown.body.framework).toBe('vite-react');
    expect(shown.body.detection).toEqual({
      ...VITE,
      build_id: build.id,
      build_number: 3,
      detected_at: expect.any(String),
    });
    // A build is not an edit of the project.
    expect(shown.body.updated_at).toBe(before.body.updated_at);

    // Reported again (a retried request): the same answer.
    expect((await post('/detection', VITE)).body).toEqual({ recorded: true });
  });

  it('never replaces what a newer build found', async () => {
    const { project, post } = await leasedJob(db, { number: 4 });
    const newer = { ...VITE, framework: 'astro', build_id: crypto.randomUUID(), build_number: 9 };
    await db
      .update(projects)
      .set({ framework: 'astro', detection: { ...newer, detected_at: new Date().toISOString() } })
      .where(eq(projects.id, project.id));

    expect((await post('/detection', VITE)).body).toEqual({ recorded: false });
    const [row] = await db.select().from(projects).where(eq(projects.id, project.id));
    expect(row?.framework).toBe('astro');
    expect(row?.detection?.build_number).toBe(9);
  });

  it('masks the target environment’s secrets in the commands and the evidence', async () => {
    const { project, post, owner } = await leasedJob(db, {});
    const secret = 'hunter2-very-secret';
    await db.insert(environments).values({
      projectId: project.id,
      name: 'production',
      kind: 'production',
      envVars: {
        TOKEN: { encrypted: await encryptSecret(env.ENCRYPTION_KEY, secret), secret: true },
      },
    });
    await post('/detection', {
      ...VITE,
      framework_evidence: `sparki.json sets it (${secret})`,
      build_command: `TOKEN=${secret} pnpm run build`,
    });
    const shown = await owner.get<ShownProject>(`/api/projects/${project.id}`);
    expect(shown.text).not.toContain(secret);
    expect(shown.body.detection?.build_command).toBe('TOKEN=*** pnpm run build');
  });

  it('needs the build’s job token and a well-formed report', async () => {
    const { project, post } = await leasedJob(db, {});
    expect((await post('/detection', VITE, 'not-a-job-token')).status).toBe(401);
    expect((await post('/detection', { ...VITE, framework: 7 })).status).toBe(400);
    const [row] = await db.select().from(projects).where(eq(projects.id, project.id));
    expect(row?.detection).toBeNull();
  });
});
