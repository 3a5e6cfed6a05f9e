import { env } from 'cloudflare:test';
import { eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { rsaPrivateKeyToPkcs8 } from '../../core/pem';
import { encryptSecret } from '../../core/secret-box';
import { projects } from '../../db/schema';
import type { GitCredentials } from '../../domain/reporting/report';
import { as } from './api-client';
import { testDb } from './harness';
import { leasedJob } from './runner-helpers';

/**
 * `checkout_auth` in the job spec: a project connected through the GitHub App gets an
 * installation token that reads only its repository (minted at the GitHub stand-in,
 * test/github-installation-tokens.ts); any other project gets null.
 */

const { db, pool } = testDb();
afterAll(() => pool.end());

const web = env.GITHUB_OAUTH_BASE_URL.replace(/\/$/, '');
const api = env.GITHUB_API_BASE_URL.replace(/\/$/, '');

/** An app created at the stand-in from a manifest, and its key as Sparki stores it (PKCS#8). */
async function createApp() {
  const manifest = {
    name: `Sparki checkout ${crypto.randomUUID().slice(0, 8)}`,
    url: 'https://sparki.test',
    redirect_url: 'https://sparki.test/callback',
    default_permissions: { contents: 'read', metadata: 'read', statuses: 'write' },
  };
  const created = await fetch(`${web}/settings/apps/new`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ manifest: JSON.stringify(manifest) }).toString(),
  });
  expect(created.status).toBe(302);
  const code = new URL(created.headers.get('location')!).searchParams.get('code')!;
  const converted = await fetch(`${api}/app-manifests/${code}/conversions`, { method: 'POST' });
  expect(converted.status).toBe(201);
  const app = await converted.json<{ id: number; pem: string }>();
  return { id: app.id, pkcs8: rsaPrivateKeyToPkcs8(app.pem) };
}

async function connect(projectId: string, credentials: GitCredentials, repoUrl: string) {
  await db
    .update(projects)
    .set({
      repoUrl,
      gitCredentialsEncrypted: await encryptSecret(env.ENCRYPTION_KEY, JSON.stringify(credentials)),
    })
    .where(eq(projects.id, projectId));
}

async function spec(buildId: string, token: string) {
  const response = await as(token).get<{ checkout_auth: unknown }>(`/api/jobs/${buildId}`);
  expect(response.status, response.text).toBe(200);
  return response.body.checkout_auth;
}

describe('checkout_auth in the job spec', () => {
  it('hands a GitHub App project a token that reads only its repository', async () => {
    const app = await createApp();
    const { build, project, token } = await leasedJob(db, {});
    await connect(
      project.id,
      {
        kind: 'github_app',
        app_id: String(app.id),
        private_key_pem: app.pkcs8,
        installation_id: 55,
        api_base: api,
      },
      `${web}/octo-org/shop.git`,
    );
    const auth = (await spec(build.id, token)) as { username: string; password: string };
    expect(auth).toEqual({ username: 'x-access-token', password: expect.stringMatching(/^ghs_/) });
    const issued = await fetch(`${web}/_test/installation-tokens/${auth.password}`);
    expect(await issued.json()).toEqual({
      appId: app.id,
      installationId: 55,
      repositories: ['shop'],
      permissions: { contents: 'read' },
    });
    // A fresh token for every spec served (each attempt, each retry of the request).
    const again = (await spec(build.id, token)) as { password: string };
    expect(again.password).not.toBe(auth.password);
  });

  it('gives a project that reports with a plain token no clone credentials', async () => {
    const { build, project, token } = await leasedJob(db, {});
    await connect(
      project.id,
      { kind: 'token', token: 'glpat-not-for-cloning' },
      'https://gitlab.example/acme/site.git',
    );
    await db.update(projects).set({ gitProvider: 'gitlab' }).where(eq(projects.id, project.id));
    expect(await spec(build.id, token)).toBeNull();
  });

  it('serves the spec without credentials when GitHub refuses the token', async () => {
    const { build, project, token } = await leasedJob(db, {});
    const app = await createApp();
    // Signed with a key GitHub does not know for that app: the JWT is refused (401).
    const stranger = await createApp();
    await connect(
      project.id,
      {
        kind: 'github_app',
        app_id: String(app.id),
        private_key_pem: stranger.pkcs8,
        installation_id: 56,
        api_base: api,
      },
      `${web}/octo-org/shop.git`,
    );
    expect(await spec(build.id, token)).toBeNull();
  });
});
