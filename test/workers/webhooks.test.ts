import { env } from 'cloudflare:test';
import { Redis } from '@upstash/redis/cloudflare';
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { AUTH_RATE_LIMITS, WEBHOOK_PROJECT_LIMIT } from '../../core/rate-limits';
import { builds, outbox, webhookDeliveries } from '../../db/schema';
import { REPLAY_WINDOW_SECONDS } from '../../domain/webhooks/deliveries';
import { limiterFor } from '../../workers/middleware/rate-limit';
import { MAX_WEBHOOK_BYTES } from '../../workers/webhooks/body';
import giteaDeleteBranch from '../fixtures/webhooks/gitea-delete-branch.json';
import giteaPullRequest from '../fixtures/webhooks/gitea-pull-request-synchronized.json';
import giteaPush from '../fixtures/webhooks/gitea-push.json';
import gitlabMergeRequest from '../fixtures/webhooks/gitlab-merge-request-update.json';
import gitlabPush from '../fixtures/webhooks/gitlab-push.json';
import gitlabTagPush from '../fixtures/webhooks/gitlab-tag-push.json';
import { buildStatus, eventually, fetchWorker, testDb } from './harness';
import { type ProjectFixture, projectFixture } from './project-fixtures';
import { expectRateLimited, freshIp, roomInWindow } from './rate-limit-helpers';
import {
  atRepo,
  deliveryHeaders,
  githubExample,
  type Payload,
  type Provider,
  randomSha,
  signatureHeaders,
} from './webhook-helpers';

const { db, pool } = testDb();
afterAll(() => pool.end());

interface DeliveryResult {
  status: string;
  build_id?: string;
  build_number?: number;
  reason?: string;
}

interface Delivery {
  path: string;
  event: string;
  payload: unknown;
  /** The secret to sign with; null sends no signature at all. */
  secret: string | null;
  id?: string;
  headers?: Record<string, string>;
}

async function deliver(provider: Provider, delivery: Delivery) {
  const body = JSON.stringify(delivery.payload);
  const id = delivery.id ?? crypto.randomUUID();
  const response = await fetchWorker(delivery.path, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...deliveryHeaders(provider, delivery.event, id),
      ...(delivery.secret === null ? {} : await signatureHeaders(provider, delivery.secret, body)),
      ...delivery.headers,
    },
    body,
  });
  const queued = response.status === 202 ? await response.clone().json<DeliveryResult>() : null;
  // Lets the queue consumer plan the build before the test goes on, so what it checks next
  // does not race the consumer.
  if (queued?.build_id) {
    await eventually(
      () => buildStatus(db, queued.build_id!),
      (status) => status !== 'queued',
    );
  }
  return { response, id };
}

async function deliveryRow(provider: Provider, id: string) {
  const [row] = await db
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.provider, provider), eq(webhookDeliveries.deliveryId, id)));
  return row;
}

async function buildOf(id: string) {
  const [row] = await db.select().from(builds).where(eq(builds.id, id));
  return row!;
}

async function buildCount(projectId: string) {
  const [row] = await db
    .select({ count: sql`count(*)`.mapWith(Number) })
    .from(builds)
    .where(eq(builds.projectId, projectId));
  return row!.count;
}

const PUSH: Record<
  Provider,
  { event: string; payload: () => Payload; branch: string; sha: string }
> = {
  github: {
    event: 'push',
    payload: () => githubExample('push', (p) => p.ref === 'refs/heads/master'),
    branch: 'master',
    sha: '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
  },
  gitlab: {
    event: 'Push Hook',
    payload: () => gitlabPush as Payload,
    branch: 'master',
    sha: (gitlabPush as Payload).checkout_sha as string,
  },
  gitea: {
    event: 'push',
    payload: () => giteaPush as Payload,
    branch: 'develop',
    sha: 'bffeb74224043ba2feb48d137756c8a9331c449a',
  },
};

function oversizedStream() {
  const chunk = new Uint8Array(1024 * 1024);
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent > MAX_WEBHOOK_BYTES) controller.close();
      else {
        controller.enqueue(chunk);
        sent += chunk.byteLength;
      }
    },
  });
}

describe.each(['github', 'gitlab', 'gitea'] as const)('%s deliveries', (provider) => {
  it('queues a build for a signed push and publishes it to the builds queue', async () => {
    const { project } = await projectFixture({ provider, productionBranch: PUSH[provider].branch });
    const { response, id } = await deliver(provider, {
      path: `/webhooks/${provider}/${project.id}`,
      event: PUSH[provider].event,
      payload: atRepo(provider, PUSH[provider].payload(), project.repo_url),
      secret: project.webhook_secret,
    });
    expect(response.status, await response.clone().text()).toBe(202);
    const result = await response.json<DeliveryResult>();
    expect(result).toMatchObject({ status: 'queued', build_number: 1 });

    const build = await buildOf(result.build_id!);
    expect(build).toMatchObject({
      projectId: project.id,
      commitSha: PUSH[provider].sha,
      branch: PUSH[provider].branch,
      trigger: 'push',
      target: 'production',
    });
    const [message] = await db
      .select()
      .from(outbox)
      .where(sql`${outbox.payload}->>'buildId' = ${build.id}`);
    expect(message?.topic).toBe('sparki-builds');
    expect(message?.publishedAt).toBeInstanceOf(Date);
    // The real queue delivered it: the consumer planned the build and offered it to the hub.
    const status = await eventually(
      () => buildStatus(db, build.id),
      (value) => value === 'planned',
    );
    expect(status).toBe('planned');
    expect(await deliveryRow(provider, id)).toMatchObject({
      status: 'processed',
      projectId: project.id,
      event: PUSH[provider].event,
    });
  });

  it('refuses a wrong or a missing signature with 401 and records nothing', async () => {
    const { project } = await projectFixture({ provider });
    const payload = atRepo(provider, PUSH[provider].payload(), project.repo_url);
    for (const secret of ['whsec_not-the-secret', null]) {
      const { response, id } = await deliver(provider, {
        path: `/webhooks/${provider}/${project.id}`,
        event: PUSH[provider].event,
        payload,
        secret,
      });
      expect(response.status).toBe(401);
      const body = await response.json<{ error: { code: string; details: { reason: string } } }>();
      expect(body.error.code).toBe('unauthorized');
      expect(body.error.details.reason).toBe(secret === null ? 'missing' : 'mismatch');
      // A forged delivery must not take the id a genuine one will arrive with.
      expect(await deliveryRow(provider, id)).toBeUndefined();
    }
    expect(await buildCount(project.id)).toBe(0);
  });

  it('refuses a body over 25 MB with 413, counting bytes when no length is declared', async () => {
    const { project } = await projectFixture({ provider });
    const response = await fetchWorker(`/webhooks/${provider}/${project.id}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...deliveryHeaders(provider, PUSH[provider].event, crypto.randomUUID()),
      },
      body: oversizedStream(),
    });
    expect(response.status).toBe(413);
    expect((await response.json<{ error: { code: string } }>()).error.code).toBe(
      'payload_too_large',
    );
  });
});

describe('GitHub specifics', () => {
  it('builds exactly once when the same delivery arrives three times', async () => {
    const { project } = await projectFixture();
    const payload = atRepo('github', PUSH.github.payload(), project.repo_url);
    const id = crypto.randomUUID();
    const statuses: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { response } = await deliver('github', {
        path: `/webhooks/github/${project.id}`,
        event: 'push',
        payload,
        secret: project.webhook_secret,
        id,
      });
      statuses.push(`${response.status} ${(await response.json<DeliveryResult>()).status}`);
    }
    expect(statuses).toEqual(['202 queued', '200 duplicate', '200 duplicate']);
    expect(await buildCount(project.id)).toBe(1);
  });

  it('answers ping with 200 and records it', async () => {
    const { project } = await projectFixture();
    const { response, id } = await deliver('github', {
      path: `/webhooks/github/${project.id}`,
      event: 'ping',
      payload: atRepo(
        'github',
        githubExample('ping', (p) => 'repository' in p),
        project.repo_url,
      ),
      secret: project.webhook_secret,
    });
    expect(response.status).toBe(200);
    expect((await response.json<DeliveryResult>()).status).toBe('pong');
    expect((await deliveryRow('github', id))?.status).toBe('processed');
  });

  it('answers an event Sparki does not use with 202 and records it as ignored', async () => {
    const { project } = await projectFixture();
    const { response, id } = await deliver('github', {
      path: `/webhooks/github/${project.id}`,
      event: 'issues',
      payload: atRepo('github', githubExample('issues'), project.repo_url),
      secret: project.webhook_secret,
    });
    expect(response.status).toBe(202);
    expect((await response.json<DeliveryResult>()).status).toBe('ignored');
    expect(await deliveryRow('github', id)).toMatchObject({ status: 'ignored', event: 'issues' });
    expect(await buildCount(project.id)).toBe(0);
  });

  it('builds tags and pull requests as previews, records closed ones and branch deletions', async () => {
    const { project } = await projectFixture({ productionBranch: 'main' });
    const send = async (event: string, payload: Payload) => {
      const { response } = await deliver('github', {
        path: `/webhooks/github/${project.id}`,
        event,
        payload: atRepo('github', payload, project.repo_url),
        secret: project.webhook_secret,
      });
      return { status: response.status, result: await response.json<DeliveryResult>() };
    };

    const push = await send('push', PUSH.github.payload());
    expect((await buildOf(push.result.build_id!)).target).toBe('preview');

    const tag = await send(
      'push',
      githubExample('push', (p) => p.ref === 'refs/tags/simple-tag'),
    );
    expect(await buildOf(tag.result.build_id!)).toMatchObject({
      trigger: 'tag',
      tag: 'simple-tag',
      branch: null,
      target: 'preview',
    });

    const opened = await send(
      'pull_request',
      githubExample('pull_request', (p) => p.action === 'opened'),
    );
    expect(opened.status).toBe(202);
    expect(await buildOf(opened.result.build_id!)).toMatchObject({
      trigger: 'pull_request',
      pullRequest: 2,
      branch: 'changes',
      target: 'preview',
    });

    const closed = await send(
      'pull_request',
      githubExample('pull_request', (p) => p.action === 'closed'),
    );
    expect(closed).toMatchObject({ status: 200, result: { status: 'recorded' } });

    const deleted = await send('push', {
      ...PUSH.github.payload(),
      ref: 'refs/heads/feature/old',
      deleted: true,
      after: '0'.repeat(40),
      head_commit: null,
    });
    expect(deleted).toMatchObject({ status: 200, result: { status: 'recorded' } });
    expect(await buildCount(project.id)).toBe(3);
  });

  it('ignores a delivery about another repository even when signed with the project secret', async () => {
    const { project } = await projectFixture();
    const { response } = await deliver('github', {
      path: `/webhooks/github/${project.id}`,
      event: 'push',
      payload: atRepo('github', PUSH.github.payload(), 'https://github.com/someone/else'),
      secret: project.webhook_secret,
    });
    expect(response.status).toBe(202);
    expect((await response.json<DeliveryResult>()).status).toBe('ignored');
    expect(await buildCount(project.id)).toBe(0);
  });

  it('accepts GitHub’s form-encoded content type, signed over the form body', async () => {
    const { project } = await projectFixture();
    const body = `payload=${encodeURIComponent(
      JSON.stringify(atRepo('github', PUSH.github.payload(), project.repo_url)),
    )}`;
    const response = await fetchWorker(`/webhooks/github/${project.id}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...deliveryHeaders('github', 'push', crypto.randomUUID()),
        ...(await signatureHeaders('github', project.webhook_secret, body)),
      },
      body,
    });
    expect(response.status, await response.clone().text()).toBe(202);
  });

  it('refuses a declared length over the cap before reading the body', async () => {
    const { project } = await projectFixture();
    const response = await fetchWorker(`/webhooks/github/${project.id}`, {
      method: 'POST',
      headers: {
        'content-length': String(MAX_WEBHOOK_BYTES + 1),
        ...deliveryHeaders('github', 'push', crypto.randomUUID()),
      },
      body: '{}',
    });
    expect(response.status).toBe(413);
  });

  it('answers 400 without delivery headers and 404 for an unknown project', async () => {
    const { project } = await projectFixture();
    const noHeaders = await fetchWorker(`/webhooks/github/${project.id}`, {
      method: 'POST',
      body: '{}',
    });
    expect(noHeaders.status).toBe(400);
    const { response } = await deliver('github', {
      path: `/webhooks/github/${crypto.randomUUID()}`,
      event: 'push',
      payload: {},
      secret: 'x',
    });
    expect(response.status).toBe(404);
    // A project of another provider is not reachable under this provider's URL either.
    const gitlab = await deliver('gitlab', {
      path: `/webhooks/gitlab/${project.id}`,
      event: 'Push Hook',
      payload: {},
      secret: project.webhook_secret,
    });
    expect(gitlab.response.status).toBe(404);
  });

  it('routes a bare-URL delivery by repository to the project whose secret verifies it', async () => {
    const { project } = await projectFixture();
    const payload = atRepo('github', PUSH.github.payload(), project.repo_url);
    const bad = await deliver('github', {
      path: '/webhooks/github',
      event: 'push',
      payload,
      secret: 'whsec_wrong',
    });
    expect(bad.response.status).toBe(401);
    const good = await deliver('github', {
      path: '/webhooks/github',
      event: 'push',
      payload,
      secret: project.webhook_secret,
    });
    expect(good.response.status).toBe(202);
    const result = await good.response.json<DeliveryResult>();
    expect((await buildOf(result.build_id!)).projectId).toBe(project.id);

    const unknown = await deliver('github', {
      path: '/webhooks/github',
      event: 'push',
      payload: atRepo('github', payload, `https://github.com/nobody/${crypto.randomUUID()}`),
      secret: project.webhook_secret,
    });
    expect(unknown.response.status).toBe(404);
  });
});

describe('GitLab and Gitea events besides pushes', () => {
  it('builds GitLab tag pushes and merge request updates', async () => {
    const { project } = await projectFixture({ provider: 'gitlab' });
    const tag = await deliver('gitlab', {
      path: `/webhooks/gitlab/${project.id}`,
      event: 'Tag Push Hook',
      payload: atRepo('gitlab', gitlabTagPush, project.repo_url),
      secret: project.webhook_secret,
    });
    expect(tag.response.status).toBe(202);
    const mr = await deliver('gitlab', {
      path: `/webhooks/gitlab/${project.id}`,
      event: 'Merge Request Hook',
      payload: atRepo('gitlab', gitlabMergeRequest, project.repo_url),
      secret: project.webhook_secret,
    });
    expect(mr.response.status).toBe(202);
    const build = await buildOf((await mr.response.json<DeliveryResult>()).build_id!);
    expect(build).toMatchObject({ trigger: 'pull_request', target: 'preview' });
    expect(build.pullRequest).toBe(
      ((gitlabMergeRequest as Payload).object_attributes as Payload).iid,
    );
  });

  it('builds a synchronized Gitea pull request and records a branch deletion', async () => {
    const { project } = await projectFixture({ provider: 'gitea' });
    const pr = await deliver('gitea', {
      path: `/webhooks/gitea/${project.id}`,
      event: 'pull_request',
      payload: atRepo('gitea', giteaPullRequest, project.repo_url),
      secret: project.webhook_secret,
      // Gitea's optional "Authorization Header" setting: not a Sparki credential, not checked.
      headers: { authorization: 'Bearer gitea-configured-value' },
    });
    expect(pr.response.status).toBe(202);
    const deleted = await deliver('gitea', {
      path: `/webhooks/gitea/${project.id}`,
      event: 'delete',
      payload: atRepo('gitea', giteaDeleteBranch, project.repo_url),
      secret: project.webhook_secret,
    });
    expect(deleted.response.status).toBe(200);
    expect((await deleted.response.json<DeliveryResult>()).status).toBe('recorded');
  });
});

describe('replays and delivery keys', () => {
  async function answer(response: Response) {
    return `${response.status} ${(await response.json<DeliveryResult>()).status}`;
  }

  it.each(['github', 'gitlab', 'gitea'] as const)(
    'answers a %s body re-sent under fresh delivery ids duplicate and builds it once',
    async (provider) => {
      const { project } = await projectFixture({
        provider,
        productionBranch: PUSH[provider].branch,
      });
      const payload = atRepo(provider, PUSH[provider].payload(), project.repo_url);
      const answers: string[] = [];
      for (let i = 0; i < 4; i++) {
        const { response } = await deliver(provider, {
          path: `/webhooks/${provider}/${project.id}`,
          event: PUSH[provider].event,
          payload,
          secret: project.webhook_secret,
        });
        answers.push(await answer(response));
      }
      expect(answers).toEqual(['202 queued', '200 duplicate', '200 duplicate', '200 duplicate']);
      expect(await buildCount(project.id)).toBe(1);
    },
  );

  it('builds a body again once its first delivery is older than the replay window', async () => {
    const { project } = await projectFixture();
    const payload = atRepo('github', PUSH.github.payload(), project.repo_url);
    const path = `/webhooks/github/${project.id}`;
    const first = await deliver('github', {
      path,
      event: 'push',
      payload,
      secret: project.webhook_secret,
    });
    expect(await answer(first.response)).toBe('202 queued');
    await db
      .update(webhookDeliveries)
      .set({ receivedAt: sql`now() - make_interval(secs => ${REPLAY_WINDOW_SECONDS + 60})` })
      .where(eq(webhookDeliveries.deliveryId, first.id));
    const again = await deliver('github', {
      path,
      event: 'push',
      payload,
      secret: project.webhook_secret,
    });
    expect(await answer(again.response)).toBe('202 queued');
    expect(await buildCount(project.id)).toBe(2);
  });

  it('builds one GitHub delivery for each project whose hook it reaches', async () => {
    const first = await projectFixture();
    const second = await projectFixture({ repoUrl: first.project.repo_url });
    const payload = atRepo('github', PUSH.github.payload(), first.project.repo_url);
    const id = crypto.randomUUID();
    for (const { project } of [first, second]) {
      const { response } = await deliver('github', {
        path: `/webhooks/github/${project.id}`,
        event: 'push',
        payload,
        secret: project.webhook_secret,
        id,
      });
      expect(await answer(response)).toBe('202 queued');
      expect(await buildCount(project.id)).toBe(1);
    }
  });

  it('keys a GitLab delivery by its Idempotency-Key, which a retry keeps', async () => {
    const { project } = await projectFixture({ provider: 'gitlab' });
    const payload = atRepo('gitlab', PUSH.gitlab.payload(), project.repo_url);
    const key = crypto.randomUUID();
    const answers: string[] = [];
    for (let attempt = 0; attempt < 2; attempt++) {
      const { response } = await deliver('gitlab', {
        path: `/webhooks/gitlab/${project.id}`,
        event: 'Push Hook',
        payload,
        secret: project.webhook_secret,
        headers: { 'idempotency-key': key },
      });
      answers.push(await answer(response));
    }
    expect(answers).toEqual(['202 queued', '200 duplicate']);
    expect(await deliveryRow('gitlab', key)).toMatchObject({ projectId: project.id });
    expect(await buildCount(project.id)).toBe(1);
  });
});

describe('signed but malformed deliveries', () => {
  const SHA_FIELD: Record<Provider, string> = {
    github: 'after',
    gitlab: 'checkout_sha',
    gitea: 'after',
  };
  const malformed: [string, (provider: Provider, payload: Payload) => Payload][] = [
    ['an empty commit sha', (provider, payload) => ({ ...payload, [SHA_FIELD[provider]]: '' })],
    ['a NUL in the ref', (_, payload) => ({ ...payload, ref: 'refs/heads/ma\u0000in' })],
    ['a ref git refuses', (_, payload) => ({ ...payload, ref: 'refs/heads/a..b' })],
    ['an option for a branch', (_, payload) => ({ ...payload, ref: 'refs/heads/--upload-pack=x' })],
    ['an overlong ref', (_, payload) => ({ ...payload, ref: `refs/heads/${'a'.repeat(2000)}` })],
  ];

  describe.each(['github', 'gitlab', 'gitea'] as const)('%s', (provider) => {
    it.each(malformed)(
      'answers a push with %s 400 in the envelope and records it failed',
      async (_, change) => {
        const { project } = await projectFixture({ provider });
        const payload = change(
          provider,
          atRepo(provider, PUSH[provider].payload(), project.repo_url),
        );
        const { response, id } = await deliver(provider, {
          path: `/webhooks/${provider}/${project.id}`,
          event: PUSH[provider].event,
          payload,
          secret: project.webhook_secret,
        });
        expect(response.status, await response.clone().text()).toBe(400);
        const body = await response.json<{ error: { code: string; details: unknown } }>();
        expect(body.error.code).toBe('validation_failed');
        expect(await deliveryRow(provider, id)).toMatchObject({ status: 'failed' });
        expect(await buildCount(project.id)).toBe(0);
      },
    );
  });

  it('refuses a pull request number past what a build can hold, and a malformed head', async () => {
    const { project } = await projectFixture();
    const opened = githubExample('pull_request', (p) => p.action === 'opened');
    const pr = opened.pull_request as Payload;
    for (const payload of [
      { ...opened, number: 2 ** 40 },
      { ...opened, pull_request: { ...pr, head: { ...(pr.head as Payload), sha: 'HEAD' } } },
      { ...opened, pull_request: { ...pr, head: { ...(pr.head as Payload), ref: 'x@{1}' } } },
    ]) {
      const { response } = await deliver('github', {
        path: `/webhooks/github/${project.id}`,
        event: 'pull_request',
        payload: atRepo('github', payload, project.repo_url),
        secret: project.webhook_secret,
      });
      expect(response.status, await response.clone().text()).toBe(400);
    }
    expect(await buildCount(project.id)).toBe(0);
  });

  it('cleans a commit message’s control characters, and refuses an action that is no word', async () => {
    const { project } = await projectFixture();
    const push = PUSH.github.payload();
    const { response } = await deliver('github', {
      path: `/webhooks/github/${project.id}`,
      event: 'push',
      payload: atRepo(
        'github',
        { ...push, head_commit: { ...(push.head_commit as Payload), message: 'fix\u0000 it' } },
        project.repo_url,
      ),
      secret: project.webhook_secret,
    });
    expect(response.status, await response.clone().text()).toBe(202);
    const build = await buildOf((await response.json<DeliveryResult>()).build_id!);
    expect(build.commitMessage).toBe('fix\ufffd it');
    // The head commit's timestamp is kept: the DORA lead time starts there.
    const stamp = (push.head_commit as Payload).timestamp as string;
    expect(build.committedAt?.toISOString()).toBe(new Date(stamp).toISOString());

    const labeled = await deliver('github', {
      path: `/webhooks/github/${project.id}`,
      event: 'pull_request',
      payload: atRepo(
        'github',
        { ...githubExample('pull_request', (p) => p.action === 'opened'), action: 'odd\u0000' },
        project.repo_url,
      ),
      secret: project.webhook_secret,
    });
    expect(labeled.response.status, await labeled.response.clone().text()).toBe(400);
  });
});

describe('the bare URL', () => {
  it('verifies a delivery before parsing its body, then parses it once', async () => {
    const { project } = await projectFixture();
    const body = JSON.stringify(atRepo('github', PUSH.github.payload(), project.repo_url));
    const send = async (text: string, secret: string) =>
      fetchWorker('/webhooks/github', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...deliveryHeaders('github', 'push', crypto.randomUUID()),
          ...(await signatureHeaders('github', secret, text)),
        },
        body: text,
      });
    const parse = vi.spyOn(JSON, 'parse');
    const parsesOf = (text: string) => parse.mock.calls.filter(([arg]) => arg === text).length;
    try {
      // Not even JSON: a forger learns nothing from a parse error, it gets the signature's 401.
      const garbage = `{"repository": {"clone_url": "${project.repo_url}.git"}} and more`;
      expect((await send(garbage, 'whsec_forged')).status).toBe(401);
      expect(parsesOf(garbage)).toBe(0);
      expect((await send(body, 'whsec_forged')).status).toBe(401);
      expect(parsesOf(body)).toBe(0);
      const genuine = await send(body, project.webhook_secret);
      expect(genuine.status, await genuine.clone().text()).toBe(202);
      expect(parsesOf(body)).toBe(1);
    } finally {
      parse.mockRestore();
    }
  });

  it('finds the repository of a pull request, whose payload names many other URLs first', async () => {
    const { project } = await projectFixture();
    const opened = githubExample('pull_request', (p) => p.action === 'opened');
    const reviewers = Array.from({ length: 12 }, (_, i) => ({
      login: `reviewer-${i}`,
      html_url: `https://github.com/reviewer-${i}`,
    }));
    const body = JSON.stringify(
      atRepo(
        'github',
        {
          ...opened,
          pull_request: { ...(opened.pull_request as Payload), requested_reviewers: reviewers },
        },
        project.repo_url,
      ),
    );
    const response = await fetchWorker('/webhooks/github', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...deliveryHeaders('github', 'pull_request', crypto.randomUUID()),
        ...(await signatureHeaders('github', project.webhook_secret, body)),
      },
      body,
    });
    expect(response.status, await response.clone().text()).toBe(202);
    expect((await response.json<DeliveryResult>()).status).toBe('queued');
  });
});

describe('rate limits', { timeout: 60_000 }, () => {
  const withRedis = it.skipIf(!env.UPSTASH_REDIS_REST_URL);

  async function sendFrom(ip: string, project: ProjectFixture['project'], secret: string) {
    const { response } = await deliver('github', {
      path: `/webhooks/github/${project.id}`,
      event: 'issues',
      // A body of its own each time, so none is a replay of another.
      payload: atRepo(
        'github',
        { ...githubExample('issues'), nonce: crypto.randomUUID() },
        project.repo_url,
      ),
      secret,
      headers: { 'cf-connecting-ip': ip },
    });
    return response;
  }

  withRedis(
    'refuses an address after its forged deliveries, never counting verified ones',
    async () => {
      const { project } = await projectFixture();
      const ip = freshIp();
      const { limit, windowSeconds } = AUTH_RATE_LIMITS.webhook.ip;
      await roomInWindow(windowSeconds);
      for (let i = 0; i < 3; i++) {
        const verified = await sendFrom(ip, project, project.webhook_secret);
        expect(verified.status).toBe(202);
        expect(verified.headers.get('ratelimit-remaining')).toBe(String(limit));
      }
      for (let i = 0; i < limit; i++) {
        expect((await sendFrom(ip, project, 'whsec_forged')).status, `forgery ${i + 1}`).toBe(401);
      }
      await expectRateLimited(
        await sendFrom(ip, project, project.webhook_secret),
        'webhook:ip',
        limit,
      );
      expect((await sendFrom(freshIp(), project, project.webhook_secret)).status).toBe(202);
    },
  );

  withRedis('refuses a project’s verified deliveries past its budget, and only those', async () => {
    const { project } = await projectFixture();
    const other = await projectFixture();
    const { limit, windowSeconds } = WEBHOOK_PROJECT_LIMIT;
    await roomInWindow(windowSeconds);
    const redis = new Redis({
      url: env.UPSTASH_REDIS_REST_URL,
      token: env.UPSTASH_REDIS_REST_TOKEN,
      enableTelemetry: false,
    });
    // The budget is spent with the route's own limiter; sending 600 deliveries would take minutes.
    await limiterFor(redis, {
      name: 'webhook:project',
      policy: WEBHOOK_PROJECT_LIMIT,
      identifier: project.id,
    }).limit(project.id, { rate: limit });
    await expectRateLimited(
      await sendFrom(freshIp(), project, project.webhook_secret),
      'webhook:project',
      limit,
    );
    // Checked after the signature: a forger can neither spend nor probe a project's budget.
    expect((await sendFrom(freshIp(), project, 'whsec_forged')).status).toBe(401);
    expect((await sendFrom(freshIp(), other.project, other.project.webhook_secret)).status).toBe(
      202,
    );
  });
});

describe('concurrent deliveries', () => {
  async function deadlockCount() {
    const result = await db.execute<{ deadlocks: string }>(
      sql`select deadlocks from pg_stat_database where datname = current_database()`,
    );
    return Number(result.rows[0]?.deadlocks ?? 0);
  }

  it('answers 50 distinct signed pushes to one project, sent at once, with 50 builds', async () => {
    const { project } = await projectFixture({ productionBranch: 'master' });
    const count = 50;
    const before = await deadlockCount();
    const requests = await Promise.all(
      Array.from({ length: count }, async () => {
        const sha = randomSha();
        const payload = atRepo('github', PUSH.github.payload(), project.repo_url);
        payload.after = sha;
        const body = JSON.stringify(payload);
        return {
          sha,
          body,
          headers: {
            'content-type': 'application/json',
            ...deliveryHeaders('github', 'push', crypto.randomUUID()),
            ...(await signatureHeaders('github', project.webhook_secret, body)),
          },
        };
      }),
    );
    const responses = await Promise.all(
      requests.map(({ body, headers }) =>
        fetchWorker(`/webhooks/github/${project.id}`, { method: 'POST', headers, body }),
      ),
    );
    const answers = await Promise.all(
      responses.map(async (response) => {
        const text = await response.text();
        return `${response.status} ${response.ok ? JSON.parse(text).status : text}`;
      }),
    );
    // Tests in other files share the database, so the counter is logged, not asserted on.
    console.info(
      `deadlocks during ${count} concurrent pushes: ${(await deadlockCount()) - before}`,
    );
    expect(answers).toEqual(Array(count).fill('202 queued'));
    const rows = await db
      .select({ number: builds.number, sha: builds.commitSha })
      .from(builds)
      .where(eq(builds.projectId, project.id));
    expect(new Set(rows.map((row) => row.number)).size).toBe(count);
    expect(new Set(rows.map((row) => row.sha))).toEqual(new Set(requests.map((r) => r.sha)));
  }, 120_000);

  it('builds one body sent ten times at once under fresh delivery ids once', async () => {
    const { project } = await projectFixture();
    const body = JSON.stringify(atRepo('github', PUSH.github.payload(), project.repo_url));
    const signature = await signatureHeaders('github', project.webhook_secret, body);
    const responses = await Promise.all(
      Array.from({ length: 10 }, () =>
        fetchWorker(`/webhooks/github/${project.id}`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...deliveryHeaders('github', 'push', crypto.randomUUID()),
            ...signature,
          },
          body,
        }),
      ),
    );
    const statuses = await Promise.all(
      responses.map(async (response) => (await response.json<DeliveryResult>()).status),
    );
    expect(statuses.sort()).toEqual([...Array(9).fill('duplicate'), 'queued']);
    expect(await buildCount(project.id)).toBe(1);
  });
});
