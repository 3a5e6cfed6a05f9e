import { env } from 'cloudflare:test';
import { and, eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { decryptSecret } from '../../core/secret-box';
import { auditLogs, environments } from '../../db/schema';
import { as } from './api-client';
import { newUser } from './auth-helpers';
import { testDb } from './harness';
import { addMember, projectFixture } from './project-fixtures';

const { db, pool } = testDb();
afterAll(() => pool.end());

interface Settings {
  deploy_target: string;
  strategy: string;
  supported_strategies: string[];
  auto_deploy: boolean;
  deploy_config: Record<string, unknown>;
  credentials_set: string[];
}

async function setup() {
  const fixture = await projectFixture();
  const viewer = await newUser('viewer');
  const developer = await newUser('dev');
  await addMember(db, fixture.workspace.id, viewer.email, 'viewer');
  await addMember(db, fixture.workspace.id, developer.email, 'developer');
  const [production] = await db
    .select()
    .from(environments)
    .where(
      and(eq(environments.projectId, fixture.project.id), eq(environments.kind, 'production')),
    );
  const path = `/api/environments/${production!.id}/deploy-settings`;
  return { ...fixture, viewer, developer, production: production!, path };
}

const SECRET = `whsec_${'s'.repeat(40)}`;
const webhookSettings = {
  deploy_target: 'webhook',
  strategy: 'blue_green',
  auto_deploy: false,
  deploy_config: {
    health_check: { path: '/healthz' },
    adapter: { url: 'https://deploy.example.com/hook' },
  },
  credentials: { secret: SECRET },
};

describe('environment deploy settings', () => {
  it('switches to an adapter with credentials that are stored encrypted and never returned', async () => {
    const { owner, viewer, production, path } = await setup();

    const before = await as(viewer).get<Settings>(path);
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({
      deploy_target: 'edge',
      strategy: 'all_at_once',
      supported_strategies: ['all_at_once', 'blue_green', 'canary'],
      credentials_set: [],
    });

    const patched = await as(owner).patch(path, webhookSettings);
    const text = patched.text;
    expect(patched.status, text).toBe(200);
    expect(text).not.toContain(SECRET);
    expect(JSON.parse(text)).toMatchObject({
      deploy_target: 'webhook',
      strategy: 'blue_green',
      supported_strategies: ['all_at_once', 'blue_green'],
      auto_deploy: false,
      deploy_config: webhookSettings.deploy_config,
      credentials_set: ['secret'],
    });

    const read = await as(viewer).get(path);
    const readText = read.text;
    expect(readText).not.toContain(SECRET);
    expect(JSON.parse(readText)).toMatchObject({ credentials_set: ['secret'] });

    const [row] = await db.select().from(environments).where(eq(environments.id, production.id));
    expect(row!.credentialsEncrypted).not.toContain(SECRET);
    expect(JSON.parse(await decryptSecret(env.ENCRYPTION_KEY, row!.credentialsEncrypted!))).toEqual(
      { secret: SECRET },
    );

    const audits = await db
      .select()
      .from(auditLogs)
      .where(
        and(
          eq(auditLogs.targetId, production.id),
          eq(auditLogs.action, 'environment.deploy_settings_updated'),
        ),
      );
    expect(audits).toHaveLength(1);
    expect(audits[0]!.metadata).toMatchObject({ deploy_target: 'webhook', credentials: 'set' });
    expect(JSON.stringify(audits[0])).not.toContain(SECRET);

    // Changing only the strategy keeps the stored credentials.
    const kept = await as(owner).patch<Settings>(path, { strategy: 'all_at_once' });
    expect(kept.body).toMatchObject({ credentials_set: ['secret'] });

    // Back to the edge host: the provider's credentials go with it.
    const edge = await as(owner).patch<Settings>(path, { deploy_target: 'edge' });
    expect(edge.body).toMatchObject({
      deploy_target: 'edge',
      credentials_set: [],
    });
  });

  it('refuses a strategy the target does not support, and bad adapter settings, naming each', async () => {
    const { owner, path, production } = await setup();
    const canary = await as(owner).patch<{
      error: { code: string; details: { problems: { field: string; message: string }[] } };
    }>(path, {
      ...webhookSettings,
      strategy: 'canary',
    });
    expect(canary.status).toBe(400);
    const body = canary.body;
    expect(body.error.code).toBe('validation_failed');
    expect(body.error.details.problems).toEqual([
      { field: 'strategy', message: expect.stringContaining('does not support canary') },
    ]);

    const incomplete = await as(owner).patch<{
      error: { details: { problems: { field: string }[] } };
    }>(path, {
      deploy_target: 'webhook',
      deploy_config: {},
      credentials: { secret: 'short' },
    });
    expect(incomplete.status).toBe(400);
    const problems = incomplete.body.error.details.problems.map((problem) => problem.field);
    expect(problems).toEqual(['deploy_config.adapter.url', 'credentials.secret']);

    const edgeWithCredentials = await as(owner).patch(path, {
      credentials: { secret: SECRET },
    });
    expect(edgeWithCredentials.status).toBe(400);

    const [row] = await db.select().from(environments).where(eq(environments.id, production.id));
    expect(row).toMatchObject({ deployTarget: 'edge', credentialsEncrypted: null });
  });

  it('refuses adapter URLs on private networks: any but loopback in development, all in production', async () => {
    const { owner, path } = await setup();
    type Refusal = { error: { details: { problems: { field: string; message: string }[] } } };
    const settings = (adapter: Record<string, unknown>) => ({
      ...webhookSettings,
      deploy_config: { ...webhookSettings.deploy_config, adapter },
    });
    const refused = await as(owner).patch<Refusal>(
      path,
      settings({
        url: 'https://10.1.2.3/hook',
        statusUrl: 'https://169.254.169.254/latest/meta-data',
      }),
    );
    expect(refused.status, refused.text).toBe(400);
    expect(refused.body.error.details.problems).toEqual([
      { field: 'deploy_config.adapter.url', message: expect.stringContaining('public host') },
      { field: 'deploy_config.adapter.statusUrl', message: expect.stringContaining('public host') },
    ]);
    const renderOnLan = await as(owner).patch<Refusal>(path, {
      deploy_target: 'render',
      strategy: 'all_at_once',
      deploy_config: { adapter: { serviceId: 'srv-1', apiBase: 'https://render.internal/v1' } },
      credentials: { apiKey: `rnd_${'k'.repeat(24)}` },
    });
    expect(renderOnLan.status, renderOnLan.text).toBe(400);
    expect(renderOnLan.body.error.details.problems.map((problem) => problem.field)).toEqual([
      'deploy_config.adapter.apiBase',
    ]);
    // A receiver on this machine is fine in development, not in production.
    const local = settings({ url: 'http://127.0.0.1:9/hook' });
    expect((await as(owner).patch(path, local)).status).toBe(200);
    const production: Partial<Env> = {
      APP_ENV: 'production',
      RESEND_API_KEY: 're_test',
      MAIL_FROM: 'Sparki <no-reply@sparki.test>',
    };
    const inProduction = await as(owner, { env: production }).patch<Refusal>(path, local);
    expect(inProduction.status, inProduction.text).toBe(400);
    expect(inProduction.body.error.details.problems).toEqual([
      { field: 'deploy_config.adapter.url', message: expect.stringContaining('https') },
    ]);
  });

  it('takes an image template for image-based targets and names what is wrong with one', async () => {
    const { owner, path } = await setup();
    type Problems = { error: { details: { problems: { field: string; message: string }[] } } };
    const problemsOf = async (body: unknown) => {
      const response = await as(owner).patch<Problems>(path, body);
      expect(response.status).toBe(400);
      return response.body.error.details.problems;
    };
    const fly = {
      deploy_target: 'fly_machines',
      deploy_config: { adapter: { appName: 'shop-api' } },
      credentials: { apiToken: 'fo1_token' },
    };

    expect(await problemsOf(fly)).toEqual([
      {
        field: 'deploy_config.image',
        message: expect.stringMatching(
          /^missing setting image: Fly\.io Machines runs a container image; set the reference/,
        ),
      },
    ]);
    expect(
      await problemsOf({
        ...fly,
        deploy_config: { ...fly.deploy_config, image: 'registry.fly.io/shop-api:{sha}' },
      }),
    ).toEqual([
      {
        field: 'deploy_config.image',
        message:
          'invalid setting image: has an unknown placeholder {sha} (known: {commit_sha}, ' +
          '{short_sha}, {build_number}, {branch})',
      },
    ]);
    expect(
      await problemsOf({
        ...fly,
        deploy_config: { ...fly.deploy_config, image: 'registry.fly.io/shop-api:{commit_sha' },
      }),
    ).toEqual([
      {
        field: 'deploy_config.image',
        message: 'invalid setting image: has a { without a matching } at position 26',
      },
    ]);
    expect(
      await problemsOf({
        deploy_target: 'vercel',
        deploy_config: {
          image: 'ghcr.io/acme/shop:{commit_sha}',
          adapter: { projectId: 'prj_1', projectName: 'shop' },
        },
        credentials: { token: 't' },
      }),
    ).toEqual([
      {
        field: 'deploy_config.image',
        message: 'Vercel deploys the build output files, not a container image',
      },
    ]);

    const saved = await as(owner).patch<Settings>(path, {
      ...fly,
      deploy_config: { ...fly.deploy_config, image: 'registry.fly.io/shop-api:{commit_sha}' },
    });
    expect(saved.status, saved.text).toBe(200);
    expect(saved.body).toMatchObject({
      deploy_target: 'fly_machines',
      deploy_config: { image: 'registry.fly.io/shop-api:{commit_sha}' },
    });
  });

  it('lets viewers read, only admins change, and hides other workspaces’ environments', async () => {
    const { viewer, developer, path } = await setup();
    const stranger = await newUser('stranger');
    expect((await as(developer).patch(path, { auto_deploy: false })).status).toBe(403);
    expect((await as(viewer).patch(path, { auto_deploy: false })).status).toBe(403);
    expect((await as(stranger).get(path)).status).toBe(404);
    expect(
      (await as(viewer).get(`/api/environments/${crypto.randomUUID()}/deploy-settings`)).status,
    ).toBe(404);
  });
});
