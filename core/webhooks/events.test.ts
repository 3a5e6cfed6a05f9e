import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readDelivery, repoKey, toGitEvent, WebhookPayloadError } from './events';

type Examples = { name: string; examples: Record<string, unknown>[] }[];
// GitHub's own published example deliveries.
const github = JSON.parse(
  readFileSync('node_modules/@octokit/webhooks-examples/api.github.com/index.json', 'utf8'),
) as Examples;

function examples(name: string) {
  return github.find((entry) => entry.name === name)!.examples;
}

function fixture(name: string): unknown {
  return JSON.parse(readFileSync(`test/fixtures/webhooks/${name}.json`, 'utf8'));
}

describe('GitHub deliveries (published examples)', () => {
  it('answers ping', () => {
    for (const payload of examples('ping'))
      expect(toGitEvent('github', 'ping', payload)).toEqual({ kind: 'ping' });
  });

  it('reads branch pushes, tag pushes and deletions', () => {
    const pushes = examples('push').map((payload) => toGitEvent('github', 'push', payload));
    expect(pushes).toContainEqual({
      kind: 'push',
      repo: {
        urls: [
          'https://github.com/Codertocat/Hello-World.git',
          'https://github.com/Codertocat/Hello-World',
          'git@github.com:Codertocat/Hello-World.git',
        ],
      },
      branch: 'master',
      sha: '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
      message: expect.any(String),
      committedAt: '2019-05-15T15:19:25Z',
    });
    expect(pushes).toContainEqual(expect.objectContaining({ kind: 'tag', tag: 'simple-tag' }));
    expect(pushes).toContainEqual(
      expect.objectContaining({ kind: 'ignored', reason: 'tag deleted' }),
    );

    const branchPush = examples('push').find((payload) => payload.ref === 'refs/heads/master')!;
    const deleted = toGitEvent('github', 'push', {
      ...branchPush,
      ref: 'refs/heads/feature/old',
      deleted: true,
      after: '0000000000000000000000000000000000000000',
      head_commit: null,
    });
    expect(deleted).toMatchObject({ kind: 'branch_deleted', branch: 'feature/old' });
  });

  it('reads the delete event: a branch retires its previews, a tag is ignored', () => {
    for (const payload of examples('delete')) {
      expect(toGitEvent('github', 'delete', payload)).toMatchObject({
        kind: 'ignored',
        reason: 'tag deleted',
      });
    }
    const tag = examples('delete')[0]!;
    expect(
      toGitEvent('github', 'delete', { ...tag, ref: 'feature/old', ref_type: 'branch' }),
    ).toEqual({
      kind: 'branch_deleted',
      repo: {
        urls: [
          'https://github.com/Codertocat/Hello-World.git',
          'https://github.com/Codertocat/Hello-World',
          'git@github.com:Codertocat/Hello-World.git',
        ],
      },
      branch: 'feature/old',
    });
    expect(() => toGitEvent('github', 'delete', { ref: 'x' })).toThrow(WebhookPayloadError);
  });

  it('reads the pull request actions that build or retire previews, and ignores the rest', () => {
    const events = examples('pull_request').map((payload) =>
      toGitEvent('github', 'pull_request', payload),
    );
    const actions = new Set(
      events.filter((event) => event.kind === 'pull_request').map((event) => event.action),
    );
    expect(actions).toEqual(new Set(['opened', 'reopened', 'synchronize', 'closed']));
    expect(events.find((event) => event.kind === 'pull_request')).toMatchObject({
      number: 2,
      branch: 'changes',
      base: 'master',
    });
    expect(events).toContainEqual(
      expect.objectContaining({ kind: 'ignored', reason: 'action labeled' }),
    );
  });

  it('records events Sparki does not use as ignored', () => {
    expect(toGitEvent('github', 'issues', examples('issues')[0])).toMatchObject({
      kind: 'ignored',
      event: 'issues',
    });
  });

  it('rejects a payload that does not have the fields it needs', () => {
    expect(() => toGitEvent('github', 'push', { ref: 'refs/heads/main' })).toThrow(
      WebhookPayloadError,
    );
    expect(() => toGitEvent('github', 'push', { ref: 'refs/heads/main' })).toThrow(/after/);
  });

  it('drops a commit timestamp that is no date instead of refusing the push', () => {
    const payload = {
      ref: 'refs/heads/main',
      after: 'a'.repeat(40),
      head_commit: { message: 'x', timestamp: 'yesterday' },
      repository: { clone_url: 'https://github.com/acme/web.git' },
    };
    expect(toGitEvent('github', 'push', payload)).toMatchObject({
      kind: 'push',
      committedAt: null,
    });
  });
});

describe('GitLab deliveries', () => {
  it('reads a push with the checked-out commit and its message', () => {
    expect(toGitEvent('gitlab', 'Push Hook', fixture('gitlab-push'))).toEqual({
      kind: 'push',
      repo: {
        urls: [
          'http://example.com/mike/diaspora.git',
          'http://example.com/mike/diaspora',
          'git@example.com:mike/diaspora.git',
        ],
      },
      branch: 'master',
      sha: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
      message: 'fixed readme',
      committedAt: '2012-01-03T23:36:29+02:00',
    });
  });

  it('reads tag pushes and branch deletions', () => {
    expect(toGitEvent('gitlab', 'Tag Push Hook', fixture('gitlab-tag-push'))).toMatchObject({
      kind: 'tag',
      tag: 'v1.0.0',
    });
    const deleted = {
      ...(fixture('gitlab-push') as object),
      after: '0'.repeat(40),
      checkout_sha: null,
    };
    expect(toGitEvent('gitlab', 'Push Hook', deleted)).toMatchObject({
      kind: 'branch_deleted',
      branch: 'master',
    });
  });

  it('treats an update with new commits as synchronize, and a metadata-only update as ignored', () => {
    const payload = fixture('gitlab-merge-request-update') as { object_attributes: object };
    expect(toGitEvent('gitlab', 'Merge Request Hook', payload)).toMatchObject({
      kind: 'pull_request',
      action: 'synchronize',
      number: 1,
      branch: 'ms-viewport',
      base: 'master',
    });
    const metadata = {
      ...payload,
      object_attributes: { ...payload.object_attributes, oldrev: undefined },
    };
    expect(toGitEvent('gitlab', 'Merge Request Hook', metadata)).toMatchObject({ kind: 'ignored' });
    const merged = {
      ...payload,
      object_attributes: { ...payload.object_attributes, action: 'merge' },
    };
    expect(toGitEvent('gitlab', 'Merge Request Hook', merged)).toMatchObject({
      action: 'closed',
      merged: true,
    });
    const closed = {
      ...payload,
      object_attributes: { ...payload.object_attributes, action: 'close' },
    };
    expect(toGitEvent('gitlab', 'Merge Request Hook', closed)).toMatchObject({
      action: 'closed',
      number: 1,
      merged: false,
    });
  });
});

describe('Gitea and Forgejo deliveries', () => {
  it('reads a push, a branch deletion and a synchronized pull request', () => {
    expect(toGitEvent('gitea', 'push', fixture('gitea-push'))).toMatchObject({
      kind: 'push',
      branch: 'develop',
      sha: 'bffeb74224043ba2feb48d137756c8a9331c449a',
      message: 'Webhooks Yay!',
      committedAt: '2017-03-13T13:52:11-04:00',
    });
    expect(toGitEvent('gitea', 'delete', fixture('gitea-delete-branch'))).toMatchObject({
      kind: 'branch_deleted',
      branch: 'feature/old',
    });
    expect(
      toGitEvent('gitea', 'pull_request', fixture('gitea-pull-request-synchronized')),
    ).toMatchObject({
      kind: 'pull_request',
      action: 'synchronize',
      number: 7,
      branch: 'feature',
    });
  });
});

describe('values a build cannot use', () => {
  const githubPush = () => examples('push').find((payload) => payload.ref === 'refs/heads/master')!;

  function fieldsOf(run: () => unknown) {
    try {
      run();
    } catch (err) {
      if (err instanceof WebhookPayloadError) return err.fields;
      throw err;
    }
    throw new Error('expected a WebhookPayloadError');
  }

  it('names each unusable push field and why, for every provider', () => {
    expect(fieldsOf(() => toGitEvent('github', 'push', { ...githubPush(), after: '' }))).toEqual([
      { path: 'after', message: 'is not a 40 or 64 hex digit commit sha' },
    ]);
    expect(
      fieldsOf(() =>
        toGitEvent('gitlab', 'Push Hook', {
          ...(fixture('gitlab-push') as object),
          checkout_sha: '',
          ref: 'refs/heads/a\u0000b',
        }),
      ),
    ).toEqual([
      {
        path: 'ref',
        message: 'contains a control character, a space or one of ~ ^ : ? * [ \\',
      },
      { path: 'checkout_sha', message: 'is not a 40 or 64 hex digit commit sha' },
    ]);
    expect(
      fieldsOf(() =>
        toGitEvent('gitea', 'push', {
          ...(fixture('gitea-push') as object),
          ref: 'refs/heads/-x',
        }),
      ),
    ).toEqual([{ path: 'ref', message: 'starts with "-"' }]);
  });

  it('refuses an all-zeros commit for a ref that was not deleted', () => {
    expect(() =>
      toGitEvent('github', 'push', { ...githubPush(), deleted: false, after: '0'.repeat(40) }),
    ).toThrow(/all zeros/);
  });

  it('checks pull request heads, bases and numbers', () => {
    const opened = examples('pull_request').find((payload) => payload.action === 'opened')!;
    const pr = opened.pull_request as Record<string, Record<string, unknown>>;
    expect(
      fieldsOf(() =>
        toGitEvent('github', 'pull_request', {
          ...opened,
          number: 0,
          pull_request: {
            ...pr,
            head: { ...pr.head, ref: 'a b', sha: 'abc' },
            base: { ...pr.base, ref: 'x.lock' },
          },
        }),
      ).map((field) => field.path),
    ).toEqual([
      'number',
      'pull_request.head.ref',
      'pull_request.head.sha',
      'pull_request.base.ref',
    ]);
    const mr = fixture('gitlab-merge-request-update') as { object_attributes: object };
    expect(
      fieldsOf(() =>
        toGitEvent('gitlab', 'Merge Request Hook', {
          ...mr,
          object_attributes: { ...mr.object_attributes, iid: 2 ** 31, source_branch: '' },
        }),
      ).map((field) => field.path),
    ).toEqual(['object_attributes.iid', 'object_attributes.source_branch']);
  });

  it('keeps words only in the reasons it records', () => {
    const opened = examples('pull_request').find((payload) => payload.action === 'opened')!;
    expect(() => toGitEvent('github', 'pull_request', { ...opened, action: 'odd\u0000' })).toThrow(
      WebhookPayloadError,
    );
    const deleted = examples('delete')[0]!;
    expect(() =>
      toGitEvent('github', 'delete', { ...deleted, ref: 'a..b', ref_type: 'branch' }),
    ).toThrow(/"\.\."/);
  });

  it('cleans commit messages and normalises shas to lower case', () => {
    const push = githubPush();
    const event = toGitEvent('github', 'push', {
      ...push,
      after: (push.after as string).toUpperCase(),
      head_commit: { ...(push.head_commit as object), message: 'a\u0000b' },
    });
    expect(event).toMatchObject({ sha: push.after, message: 'a\ufffdb' });
  });
});

describe('delivery headers and repository keys', () => {
  it('reads the delivery id and event for each provider', () => {
    expect(
      readDelivery('github', new Headers({ 'x-github-delivery': 'd1', 'x-github-event': 'push' })),
    ).toEqual({
      id: 'd1',
      event: 'push',
    });
    expect(
      readDelivery(
        'gitlab',
        new Headers({ 'x-gitlab-event-uuid': 'u1', 'x-gitlab-event': 'Push Hook' }),
      ),
    ).toEqual({ id: 'u1', event: 'Push Hook' });
    // A GitLab retry keeps its Idempotency-Key, so that is the delivery's key when sent.
    expect(
      readDelivery(
        'gitlab',
        new Headers({
          'x-gitlab-event-uuid': 'u2',
          'idempotency-key': 'k2',
          'x-gitlab-event': 'Push Hook',
        }),
      ),
    ).toEqual({ id: 'k2', event: 'Push Hook' });
    expect(
      readDelivery('gitea', new Headers({ 'x-forgejo-delivery': 'f1', 'x-forgejo-event': 'push' })),
    ).toEqual({
      id: 'f1',
      event: 'push',
    });
    expect(() => readDelivery('github', new Headers({ 'x-github-event': 'push' }))).toThrow(
      /missing/,
    );
    expect(() =>
      readDelivery(
        'github',
        new Headers({ 'x-github-delivery': 'd'.repeat(201), 'x-github-event': 'push' }),
      ),
    ).toThrow(/200 characters/);
  });

  it('makes https, ssh and .git forms of one repository equal', () => {
    const key = 'github.com/codertocat/hello-world';
    expect(repoKey('https://github.com/Codertocat/Hello-World.git')).toBe(key);
    expect(repoKey('https://github.com/Codertocat/Hello-World')).toBe(key);
    expect(repoKey('git@github.com:Codertocat/Hello-World.git')).toBe(key);
    expect(repoKey('ssh://git@github.com/Codertocat/Hello-World.git')).toBe(key);
    expect(repoKey('/tmp/repos/app.git')).toBe('/tmp/repos/app');
  });
});
