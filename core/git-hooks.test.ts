import { describe, expect, it } from 'vitest';
import {
  findHookId,
  giteaHookSettings,
  gitlabHookSettings,
  hookRefusal,
  hookTarget,
} from './git-hooks';

describe('hookTarget', () => {
  it('finds the API on the repository host, whatever form the URL takes', () => {
    for (const url of [
      'https://gitlab.com/acme/web/site.git',
      'https://gitlab.com/acme/web/site',
      'git@gitlab.com:acme/web/site.git',
      'ssh://git@gitlab.com:2222/acme/web/site.git',
    ]) {
      expect(hookTarget('gitlab', url)).toEqual({
        apiBase: 'https://gitlab.com/api/v4',
        repository: 'acme/web/site',
      });
    }
    expect(hookTarget('gitea', 'http://127.0.0.1:3000/me/app.git/')).toEqual({
      apiBase: 'http://127.0.0.1:3000/api/v1',
      repository: 'me/app',
    });
  });

  it('takes the API URL given, and its relative URL root off the repository path', () => {
    expect(
      hookTarget(
        'gitlab',
        'https://example.com/gitlab/acme/site.git',
        'https://example.com/gitlab/api/v4/',
      ),
    ).toEqual({ apiBase: 'https://example.com/gitlab/api/v4', repository: 'acme/site' });
    expect(
      hookTarget('gitea', 'git@code.example.com:me/app.git', 'https://api.example.com/api/v1'),
    ).toEqual({ apiBase: 'https://api.example.com/api/v1', repository: 'me/app' });
  });

  it('says what is wrong with a repository it cannot place', () => {
    expect(() => hookTarget('gitlab', '/home/me/site')).toThrow(/local path/);
    expect(() => hookTarget('gitlab', 'file:///home/me/site')).toThrow(/local path/);
    expect(() => hookTarget('gitlab', 'https://gitlab.com/site.git')).toThrow(/group\/project/);
    expect(() => hookTarget('gitea', 'https://gitea.com/a/b/c.git')).toThrow(/owner\/name/);
    expect(() => hookTarget('gitea', 'https://gitea.com/a/b%20c.git')).toThrow(/owner\/name/);
  });
});

describe('hook settings', () => {
  it('subscribe GitLab to pushes, tags and merge requests with the secret as token', () => {
    expect(gitlabHookSettings('https://sparki.dev/webhooks/gitlab/p', 's3cret')).toEqual({
      url: 'https://sparki.dev/webhooks/gitlab/p',
      token: 's3cret',
      push_events: true,
      tag_push_events: true,
      merge_request_events: true,
      enable_ssl_verification: true,
    });
  });

  it('create a Gitea hook of type gitea sending JSON signed with the secret', () => {
    const created = giteaHookSettings('https://sparki.dev/webhooks/gitea/p', 's3cret', true);
    expect(created).toMatchObject({
      type: 'gitea',
      config: {
        url: 'https://sparki.dev/webhooks/gitea/p',
        content_type: 'json',
        secret: 's3cret',
      },
      events: ['push', 'pull_request', 'delete'],
      active: true,
    });
    expect(giteaHookSettings('u', 's', false)).not.toHaveProperty('type');
  });
});

describe('findHookId', () => {
  const url = 'https://sparki.dev/webhooks/gitlab/p';

  it("picks Sparki's hook by its URL", () => {
    expect(
      findHookId(
        'gitlab',
        [
          { id: 1, url: 'https://ci.example/x' },
          { id: 7, url: `${url}/` },
        ],
        url,
      ),
    ).toBe(7);
    expect(
      findHookId(
        'gitea',
        [
          { id: 3, type: 'slack', config: {} },
          { id: 4, config: { url } },
        ],
        url,
      ),
    ).toBe(4);
  });

  it('finds nothing in a list without it, or in what is not a list of hooks', () => {
    expect(findHookId('gitlab', [{ id: 1, url: 'https://ci.example/x' }], url)).toBeUndefined();
    expect(findHookId('gitlab', [{ url }], url)).toBeUndefined();
    expect(findHookId('gitea', { message: 'no' }, url)).toBeUndefined();
  });
});

describe('hookRefusal', () => {
  it('reads 401, 403 and 404 as what the user must fix, the rest as the server', () => {
    expect([401, 403, 404, 422, 500].map(hookRefusal)).toEqual([
      'token_rejected',
      'insufficient_scope',
      'not_found',
      'upstream',
      'upstream',
    ]);
  });
});
