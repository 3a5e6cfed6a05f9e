import { eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { builds } from '../../db/schema';
import { as } from './api-client';
import { testDb } from './harness';
import { leasedJob, ownerWithWorkspace, queuedBuild } from './runner-helpers';

const { db, pool } = testDb();
afterAll(() => pool.end());

const HEAD = 'e'.repeat(40);

async function commitOf(buildId: string) {
  const [row] = await db
    .select({ commitSha: builds.commitSha })
    .from(builds)
    .where(eq(builds.id, buildId));
  return row?.commitSha;
}

describe('the commit a runner checked out', () => {
  it('is recorded for a branch head build, which the API shows as null until then', async () => {
    const { build, token, post, owner } = await leasedJob(db, { commitSha: null });
    const before = await owner.get<{ commit_sha: string | null }>(`/api/builds/${build.id}`);
    expect(before.body.commit_sha).toBeNull();
    const spec = await as(token).get<{ commit_sha: string | null }>(`/api/jobs/${build.id}`);
    expect(spec.body.commit_sha).toBeNull();

    const reported = await post('/commit', { commit_sha: HEAD });
    expect(reported.status, reported.text).toBe(200);
    expect(reported.body).toEqual({ commit_sha: HEAD, recorded: true });
    expect(await commitOf(build.id)).toBe(HEAD);
    const after = await owner.get<{ commit_sha: string | null }>(`/api/builds/${build.id}`);
    expect(after.body.commit_sha).toBe(HEAD);

    // A repeated report (a retry) is answered the same; another commit is refused.
    expect((await post('/commit', { commit_sha: HEAD })).body).toEqual({
      commit_sha: HEAD,
      recorded: false,
    });
    expect((await post('/commit', { commit_sha: 'f'.repeat(40) })).status).toBe(409);
    expect(await commitOf(build.id)).toBe(HEAD);

    // A retry of the build builds the commit the first one checked out, not a newer head.
    await post('/complete', { status: 'failed', error: 'tests failed' });
    const retry = await owner.post<{ commit_sha: string | null }>(`/api/builds/${build.id}/retry`);
    expect(retry.status).toBe(201);
    expect(retry.body.commit_sha).toBe(HEAD);
  });

  it('never replaces the commit a build was started with', async () => {
    const sha = 'c'.repeat(40);
    const { build, post } = await leasedJob(db, { commitSha: sha });
    expect((await post('/commit', { commit_sha: HEAD })).status).toBe(409);
    expect((await post('/commit', { commit_sha: sha })).body).toEqual({
      commit_sha: sha,
      recorded: false,
    });
    expect(await commitOf(build.id)).toBe(sha);
  });

  it("fills the commit time the webhook did not give, and keeps the webhook's", async () => {
    const sha = 'd'.repeat(40);
    const committedAt = async (buildId: string) =>
      (await db.select().from(builds).where(eq(builds.id, buildId)))[0]?.committedAt;
    const { build, post } = await leasedJob(db, { commitSha: sha });
    // Another commit's time is not taken, and a time that is not strict ISO 8601 is refused.
    await post('/commit', { commit_sha: HEAD, committed_at: '2026-03-01T10:00:00+01:00' });
    expect(await committedAt(build.id)).toBeNull();
    const bad = await post('/commit', { commit_sha: sha, committed_at: 'yesterday' });
    expect(bad.status).toBe(400);
    const ok = await post('/commit', {
      commit_sha: sha,
      committed_at: '2026-03-01T10:00:00+01:00',
    });
    expect(ok.status, ok.text).toBe(200);
    expect((await committedAt(build.id))?.toISOString()).toBe('2026-03-01T09:00:00.000Z');

    const fromWebhook = new Date('2026-02-01T00:00:00Z');
    const other = await leasedJob(db, { commitSha: sha, committedAt: fromWebhook });
    await other.post('/commit', { commit_sha: sha, committed_at: '2026-03-01T10:00:00Z' });
    expect(await committedAt(other.build.id)).toEqual(fromWebhook);
  });

  it('needs the job token and a full sha', async () => {
    const { build, post } = await leasedJob(db, { commitSha: null });
    expect((await post('/commit', { commit_sha: 'abc1234' })).status).toBe(400);
    expect((await post('/commit', { commit_sha: HEAD }, 'not-a-job-token')).status).toBe(401);
    expect(await commitOf(build.id)).toBeNull();
  });
});

describe('builds without a commit', () => {
  it('must name a branch: the database refuses neither, and the empty string', async () => {
    const { workspace } = await ownerWithWorkspace();
    await expect(
      queuedBuild(db, workspace.id, { commitSha: null, branch: null }),
    ).rejects.toThrow();
    await expect(queuedBuild(db, workspace.id, { commitSha: '' })).rejects.toThrow();
  });
});
