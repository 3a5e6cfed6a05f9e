import { env } from 'cloudflare:test';
import { and, asc, eq } from 'drizzle-orm';
import { SignJWT } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { encryptSecret } from '../../core/secret-box';
import { ACCESS_TOKEN_ALG } from '../../core/signing-keys';
import { buildSteps, builds, environments, outbox } from '../../db/schema';
import { buildSession, runnerHub } from '../../platform/durable-objects';
import { artifactKey } from '../../platform/storage-keys';
import { signingKeys } from '../../platform/tokens/access-tokens';
import { JOB_TOKEN_AUDIENCE } from '../../platform/tokens/job-tokens';
import { API_BODY_LIMIT_BYTES } from '../../workers/app';
import { anonymous, as } from './api-client';
import { testDb } from './harness';
import {
  onlineRunner,
  ownerWithWorkspace,
  planBuild,
  queuedBuild,
  registerRunner,
} from './runner-helpers';

const { db, pool } = testDb();
afterAll(() => pool.end());

const SECRET = 'hunter2-very-secret';

async function envVar(value: string, secret: boolean) {
  return { encrypted: await encryptSecret(env.ENCRYPTION_KEY, value), secret };
}

/** A running build held by a connected runner, with production variables (one secret). */
async function leasedJob() {
  const { owner, workspace } = await ownerWithWorkspace();
  const runner = await registerRunner(owner.access_token, workspace.id);
  const socket = await onlineRunner(runner.runner_token);
  const { project, build } = await queuedBuild(db, workspace.id);
  await db.insert(environments).values([
    {
      projectId: project.id,
      name: 'production',
      kind: 'production',
      envVars: { NODE_ENV: await envVar('production', false), API_KEY: await envVar(SECRET, true) },
    },
    {
      projectId: project.id,
      name: 'preview',
      kind: 'preview',
      envVars: { NODE_ENV: await envVar('preview', false) },
    },
  ]);
  await planBuild(build.id);
  const job = await socket.next('job');
  return { workspace, project, build, runner, socket, token: job.job_token, attempt: job.attempt };
}

function stepsOf(buildId: string) {
  return db
    .select()
    .from(buildSteps)
    .where(eq(buildSteps.buildId, buildId))
    .orderBy(asc(buildSteps.position));
}

describe('job API', () => {
  it('serves the spec with the target environment decrypted and its secrets named', async () => {
    const { build, project, token, attempt } = await leasedJob();
    const response = await as(token).get(`/api/jobs/${build.id}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.body).toEqual({
      build_id: build.id,
      project_id: project.id,
      attempt,
      repo_url: 'https://github.com/acme/site.git',
      commit_sha: build.commitSha,
      branch: 'main',
      build_number: build.number,
      image_template: null,
      root_dir: 'apps/web',
      env: { NODE_ENV: 'production', API_KEY: SECRET },
      secret_names: ['API_KEY'],
      overrides: {},
      limits: { build_timeout_ms: 30 * 60_000, step_timeout_ms: 15 * 60_000 },
      traceparent: expect.stringMatching(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/),
      // No GitHub App behind the project: the runner fetches without credentials.
      checkout_auth: null,
    });
  });

  it('hands the build its environment’s image template, for a build that pushes the image', async () => {
    const { build, project, token } = await leasedJob();
    await db
      .update(environments)
      .set({ deployConfig: { image: 'ghcr.io/acme/site:{commit_sha}' } })
      .where(and(eq(environments.projectId, project.id), eq(environments.kind, 'production')));
    const response = await as(token).get(`/api/jobs/${build.id}`);
    expect(response.body).toMatchObject({
      build_number: build.number,
      image_template: 'ghcr.io/acme/site:{commit_sha}',
    });
  });

  it('appends log lines in order with the project’s secrets masked', async () => {
    const { build, token } = await leasedJob();
    const first = await as(token).post(`/api/jobs/${build.id}/logs`, {
      lines: [
        { stream: 'stdout', text: 'installing', step_id: 'install', ts: 1 },
        { stream: 'stderr', text: `key=${SECRET}`, step_id: 'install', ts: 2 },
      ],
    });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ last_seq: 2 });
    const encoded = btoa(SECRET);
    await as(token).post(`/api/jobs/${build.id}/logs`, {
      lines: [{ stream: 'stdout', text: `b64 ${encoded}`, step_id: 'build', ts: 3 }],
    });
    const lines = await buildSession(env, build.id).read();
    expect(lines.map((line) => [line.seq, line.stream, line.stepId])).toEqual([
      [1, 'stdout', 'install'],
      [2, 'stderr', 'install'],
      [3, 'stdout', 'build'],
    ]);
    expect(lines[0]!.text).toBe('installing');
    expect(lines[1]!.text).toBe('key=***');
    expect(lines[2]!.text).toMatch(/^b64 \*\*\*/);
    expect(lines[2]!.text).not.toContain(encoded.slice(0, -4));
  });

  it('upserts reported steps by position', async () => {
    const { build, token } = await leasedJob();
    const plan = [
      { id: 'install', position: 0, name: 'Install', command: 'npm ci', status: 'pending' },
      { id: 'build', position: 1, name: 'Build', command: 'npm run build', status: 'pending' },
    ];
    expect((await as(token).post(`/api/jobs/${build.id}/steps`, { steps: plan })).status).toBe(200);
    const startedAt = new Date().toISOString();
    await as(token).post(`/api/jobs/${build.id}/steps`, {
      steps: [
        {
          ...plan[0],
          status: 'succeeded',
          exit_code: 0,
          started_at: startedAt,
          finished_at: startedAt,
        },
      ],
    });
    const rows = await stepsOf(build.id);
    expect(rows.map((row) => [row.position, row.name, row.status, row.exitCode])).toEqual([
      [0, 'Install', 'succeeded', 0],
      [1, 'Build', 'pending', null],
    ]);
    expect(rows[0]!.finishedAt?.toISOString()).toBe(startedAt);
  });

  it('streams the artifact to R2 and completes with a build.succeeded outbox row, once', async () => {
    const { workspace, project, build, token } = await leasedJob();
    // Larger than the API's 1 MiB body limit, which the artifact upload is exempt from.
    const archive = Uint8Array.from({ length: API_BODY_LIMIT_BYTES + 500_000 }, (_, i) => i % 251);
    const upload = await as(token).put(`/api/jobs/${build.id}/artifact`, archive, {
      'content-type': 'application/gzip',
      'content-length': String(archive.length),
    });
    expect(upload.status, upload.text).toBe(200);
    const key = artifactKey(build.id);
    expect(upload.body).toEqual({ artifact_key: key, size: archive.length });
    const stored = await env.ARTIFACTS.get(key);
    expect(new Uint8Array(await stored!.arrayBuffer())).toEqual(archive);

    const done = await as(token).post(`/api/jobs/${build.id}/complete`, { status: 'succeeded' });
    expect(done.status).toBe(200);
    expect(done.body).toEqual({ status: 'succeeded' });
    const [row] = await db.select().from(builds).where(eq(builds.id, build.id));
    expect(row).toMatchObject({ status: 'succeeded', artifactKey: key, error: null });
    expect(row!.finishedAt).toBeInstanceOf(Date);
    expect(row!.logKey).toBe(`builds/${build.id}/log.ndjson`);
    expect(await runnerHub(env, workspace.id).leases()).toEqual([]);

    const again = await as(token).post(`/api/jobs/${build.id}/complete`, { status: 'failed' });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ status: 'succeeded' });
    const events = await db
      .select()
      .from(outbox)
      .where(and(eq(outbox.topic, 'sparki-deployments')));
    const mine = events.filter(
      (event) => (event.payload as { build_id?: string }).build_id === build.id,
    );
    expect(mine.map((event) => event.payload)).toEqual([
      {
        type: 'build.succeeded',
        build_id: build.id,
        project_id: project.id,
        target: 'production',
        artifact_key: key,
        // No traceparent on the call: the deploy engine continues the build's attempt.
        traceparent: row!.traceparent,
      },
    ]);
    expect(mine[0]!.publishedAt).toBeInstanceOf(Date);
    // The lease has ended: the token no longer reaches the rest of the API.
    expect((await as(token).get(`/api/jobs/${build.id}`)).status).toBe(401);
  });

  it('records a failure with its (masked) reason and announces nothing', async () => {
    const { build, token } = await leasedJob();
    const done = await as(token).post(`/api/jobs/${build.id}/complete`, {
      status: 'failed',
      error: `step build exited with 1 (${SECRET})`,
    });
    expect(done.body).toEqual({ status: 'failed' });
    const [row] = await db.select().from(builds).where(eq(builds.id, build.id));
    expect(row).toMatchObject({ status: 'failed', error: 'step build exited with 1 (***)' });
    const events = await db.select().from(outbox).where(eq(outbox.topic, 'sparki-deployments'));
    expect(events.some((event) => JSON.stringify(event.payload).includes(build.id))).toBe(false);
  });

  it('refuses an artifact without a length or over the cap', async () => {
    const { build, token } = await leasedJob();
    const tooBig = await as(token).put(`/api/jobs/${build.id}/artifact`, new Uint8Array(10), {
      'content-length': String(2 ** 40),
    });
    expect(tooBig.status).toBe(413);
    const unsized = await as(token).put(
      `/api/jobs/${build.id}/artifact`,
      new Blob([new Uint8Array(10)]).stream(),
    );
    expect(unsized.status).toBe(400);
    expect(await env.ARTIFACTS.head(artifactKey(build.id))).toBeNull();
  });

  it('refuses a token for another build, an expired or forged token, and none at all', async () => {
    const { build, token } = await leasedJob();
    const other = await leasedJob();
    expect((await as(token).get(`/api/jobs/${other.build.id}`)).status).toBe(401);
    expect(
      (
        await as(token).post(`/api/jobs/${other.build.id}/logs`, {
          lines: [{ stream: 'stdout', text: 'x', ts: 1 }],
        })
      ).status,
    ).toBe(401);

    const keys = await signingKeys(env.JWT_SIGNING_KEYS);
    const claims = { runner_id: other.runner.runner_id, attempt: other.attempt };
    const expired = await new SignJWT(claims)
      .setProtectedHeader({ alg: ACCESS_TOKEN_ALG, kid: keys.kid, typ: 'job+jwt' })
      .setIssuer(env.PUBLIC_URL)
      .setAudience(JOB_TOKEN_AUDIENCE)
      .setSubject(other.build.id)
      .setIssuedAt(Math.floor(Date.now() / 1000) - 3600)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(keys.privateKey);
    expect((await as(expired).get(`/api/jobs/${other.build.id}`)).status).toBe(401);

    const wrongAudience = await new SignJWT(claims)
      .setProtectedHeader({ alg: ACCESS_TOKEN_ALG, kid: keys.kid, typ: 'job+jwt' })
      .setIssuer(env.PUBLIC_URL)
      .setAudience('sparki-api')
      .setSubject(other.build.id)
      .setExpirationTime('1h')
      .sign(keys.privateKey);
    expect((await as(wrongAudience).get(`/api/jobs/${other.build.id}`)).status).toBe(401);
    expect((await anonymous.get(`/api/jobs/${build.id}`)).status).toBe(401);
    expect((await as('not-a-jwt').get(`/api/jobs/${build.id}`)).status).toBe(401);
  });
});
