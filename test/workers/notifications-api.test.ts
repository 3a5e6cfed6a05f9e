import { and, eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { auditLogs, notificationTargets } from '../../db/schema';
import { anonymous, as, type ErrorEnvelope } from './api-client';
import { newUser } from './auth-helpers';
import { testDb } from './harness';
import { addMember, projectFixture } from './project-fixtures';

const { db, pool } = testDb();
afterAll(() => pool.end());

interface Target {
  id: string;
  kind: string;
  name: string;
  url_hint: string;
  events: string[];
  enabled: boolean;
}

const production: Partial<Env> = {
  APP_ENV: 'production',
  RESEND_API_KEY: 're_test',
  MAIL_FROM: 'Sparki <no-reply@sparki.test>',
};

async function setup() {
  const fixture = await projectFixture({ provider: 'none' });
  const base = `/api/projects/${fixture.project.id}/notification-targets`;
  return { ...fixture, base };
}

const webhook = {
  kind: 'webhook',
  name: 'Ops',
  url: 'https://ops.example.com/hooks/sparki?token=abc',
  events: ['build.failed', 'deployment.rolled_back'],
};

describe('notification targets API', () => {
  it('creates a webhook target whose secret is shown once, lists, changes and deletes it, audited', async () => {
    const { owner, base, workspace } = await setup();
    const created = await as(owner).post<{ target: Target; secret: string }>(base, webhook);
    expect(created.status, created.text).toBe(201);
    expect(created.body.secret).toMatch(/^nsec_[A-Za-z0-9_-]{43}$/);
    expect(created.body.target).toMatchObject({
      kind: 'webhook',
      name: 'Ops',
      url_hint: 'https://ops.example.com/hooks/sparki',
      events: ['build.failed', 'deployment.rolled_back'],
      enabled: true,
    });
    const id = created.body.target.id;

    // Stored sealed: neither the secret nor the URL's token is in the row or any later answer.
    const [row] = await db.select().from(notificationTargets).where(eq(notificationTargets.id, id));
    expect(JSON.stringify(row)).not.toContain(created.body.secret);
    expect(JSON.stringify(row)).not.toContain('token=abc');
    const listed = await as(owner).get<{ targets: Target[] }>(base);
    expect(listed.body.targets.map((t) => t.id)).toEqual([id]);
    expect(listed.text).not.toContain(created.body.secret);
    expect(listed.text).not.toContain('token=abc');

    const changed = await as(owner).patch<Target>(`${base}/${id}`, {
      name: 'Ops room',
      events: ['runner.offline'],
      enabled: false,
    });
    expect(changed.status, changed.text).toBe(200);
    expect(changed.body).toMatchObject({
      name: 'Ops room',
      events: ['runner.offline'],
      enabled: false,
    });

    expect((await as(owner).delete(`${base}/${id}`)).status).toBe(200);
    expect((await as(owner).delete(`${base}/${id}`)).status).toBe(404);
    expect((await as(owner).get<{ targets: Target[] }>(base)).body.targets).toEqual([]);

    const audited = await db
      .select({ action: auditLogs.action, metadata: auditLogs.metadata })
      .from(auditLogs)
      .where(and(eq(auditLogs.workspaceId, workspace.id), eq(auditLogs.targetId, id)));
    expect(audited.map((a) => a.action).sort()).toEqual([
      'notification_target.created',
      'notification_target.deleted',
      'notification_target.updated',
    ]);
    expect(JSON.stringify(audited)).not.toContain(created.body.secret);
  });

  it('keeps a Slack or Discord URL to its origin and gives no secret', async () => {
    const { owner, base } = await setup();
    const slack = await as(owner).post<{ target: Target; secret: string | null }>(base, {
      kind: 'slack',
      name: '#deploys',
      url: 'https://hooks.slack.com/services/T000/B000/XXXXXXXX',
      events: ['deployment.live'],
    });
    expect(slack.status, slack.text).toBe(201);
    expect(slack.body).toMatchObject({
      secret: null,
      target: { kind: 'slack', url_hint: 'https://hooks.slack.com/…' },
    });
    expect(slack.text).not.toContain('XXXXXXXX');
  });

  it('refuses URLs Sparki must not call: 400 naming the field', async () => {
    const { owner, base } = await setup();
    const inProduction = as(owner, { env: production });
    for (const url of [
      'http://127.0.0.1:9999/hook',
      'https://127.0.0.1/hook',
      'https://169.254.169.254/latest/meta-data',
      'https://10.0.0.8/hook',
      'https://[::1]/hook',
      'http://ops.example.com/hook',
    ]) {
      const response = await inProduction.post<ErrorEnvelope>(base, { ...webhook, url });
      expect(response.status, url).toBe(400);
      expect(response.body.error.code).toBe('validation_failed');
      expect(response.text).toContain('"path":"url"');
    }
    // Development (the local stack, these tests) admits loopback receivers over http, no more.
    expect((await as(owner).post(base, { ...webhook, url: 'http://127.0.0.1:9/h' })).status).toBe(
      201,
    );
    expect((await as(owner).post(base, { ...webhook, url: 'https://10.0.0.8/h' })).status).toBe(
      400,
    );
    expect((await as(owner).post(base, { ...webhook, url: 'http://example.com/h' })).status).toBe(
      400,
    );
    expect((await as(owner).post(base, { ...webhook, url: 'not a url' })).status).toBe(400);
  });

  it('validates kind, name and events', async () => {
    const { owner, base } = await setup();
    for (const body of [
      { ...webhook, kind: 'email' },
      { ...webhook, name: '  ' },
      { ...webhook, events: [] },
      { ...webhook, events: ['build.failed', 'build.failed'] },
      { ...webhook, events: ['test'] },
      { ...webhook, secret: 'mine' },
    ]) {
      const response = await as(owner).post<ErrorEnvelope>(base, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.error.code).toBe('validation_failed');
    }
  });

  it('is for admins: developers get 403, other workspaces and anonymous callers nothing', async () => {
    const { owner, base, workspace } = await setup();
    const created = await as(owner).post<{ target: Target }>(base, webhook);
    const targetPath = `${base}/${created.body.target.id}`;
    const developer = await newUser('dev');
    await addMember(db, workspace.id, developer.email, 'developer');
    expect((await as(developer).get(base)).status).toBe(403);
    expect((await as(developer).post(base, webhook)).status).toBe(403);
    expect((await as(developer).delete(targetPath)).status).toBe(403);

    const stranger = await projectFixture({ provider: 'none' });
    expect((await as(stranger.owner).get(base)).status).toBe(404);
    expect((await as(stranger.owner).delete(targetPath)).status).toBe(404);
    expect((await as(stranger.owner).post(`${targetPath}/test`)).status).toBe(404);
    // Their own project's path does not reach this project's target either.
    const theirs = `/api/projects/${stranger.project.id}/notification-targets/${created.body.target.id}`;
    expect((await as(stranger.owner).patch(theirs, { enabled: false })).status).toBe(404);
    expect((await as(stranger.owner).get(`${theirs}/deliveries`)).status).toBe(404);

    expect((await anonymous.get(base)).status).toBe(401);
    const unknownDelivery = `${targetPath}/deliveries/${crypto.randomUUID()}/redeliver`;
    expect((await as(owner).post(unknownDelivery)).status).toBe(404);
  });
});
