import { createHmac, randomUUID } from 'node:crypto';
import type { HostHook, HostRepo } from './git-host-state';

/**
 * The push deliveries GitLab and Gitea send to a repository's hooks, with the headers and
 * payloads they document: GitLab puts the hook's secret token in `X-Gitlab-Token`, Gitea signs
 * the body with it (`X-Gitea-Signature`, hex HMAC-SHA256, and the GitHub-style headers beside).
 */
export interface PushEvent {
  ref: string;
  after: string;
  before?: string;
  message?: string;
}

export interface Delivery {
  hookId: number;
  url: string;
  headers: Record<string, string>;
  body: string;
}

const ZERO = '0'.repeat(40);

function gitlabPush(baseUrl: string, repo: HostRepo, push: PushEvent) {
  const web = `${baseUrl}/${repo.path}`;
  const name = repo.path.split('/').at(-1)!;
  const project = {
    id: repo.id,
    name,
    web_url: web,
    git_ssh_url: `git@${new URL(baseUrl).hostname}:${repo.path}.git`,
    git_http_url: `${web}.git`,
    namespace: repo.path.split('/').slice(0, -1).join('/'),
    path_with_namespace: repo.path,
    default_branch: 'main',
  };
  const tag = push.ref.startsWith('refs/tags/');
  return {
    object_kind: tag ? 'tag_push' : 'push',
    event_name: tag ? 'tag_push' : 'push',
    before: push.before ?? ZERO,
    after: push.after,
    ref: push.ref,
    ref_protected: push.ref === 'refs/heads/main',
    checkout_sha: push.after,
    user_id: 1,
    user_name: 'Test User',
    user_username: 'test',
    project_id: repo.id,
    project,
    commits: [
      {
        id: push.after,
        message: push.message ?? 'a commit',
        title: (push.message ?? 'a commit').split('\n')[0],
        timestamp: new Date().toISOString(),
        url: `${web}/-/commit/${push.after}`,
        author: { name: 'Test User', email: 'test@example.com' },
      },
    ],
    total_commits_count: 1,
    repository: {
      name,
      url: project.git_ssh_url,
      homepage: web,
      git_http_url: project.git_http_url,
      git_ssh_url: project.git_ssh_url,
      visibility_level: 0,
    },
  };
}

function giteaPush(baseUrl: string, repo: HostRepo, push: PushEvent) {
  const [owner, name] = repo.path.split('/') as [string, string];
  const web = `${baseUrl}/${repo.path}`;
  const user = { id: 1, login: owner, username: owner, email: 'test@example.com' };
  const commit = {
    id: push.after,
    message: `${push.message ?? 'a commit'}\n`,
    url: `${web}/commit/${push.after}`,
    author: { name: 'Test User', email: 'test@example.com', username: owner },
    committer: { name: 'Test User', email: 'test@example.com', username: owner },
    timestamp: new Date().toISOString(),
  };
  return {
    ref: push.ref,
    before: push.before ?? ZERO,
    after: push.after,
    compare_url: `${web}/compare/${push.before ?? ZERO}...${push.after}`,
    commits: [commit],
    total_commits: 1,
    head_commit: commit,
    repository: {
      id: repo.id,
      owner: user,
      name,
      full_name: repo.path,
      private: false,
      html_url: web,
      clone_url: `${web}.git`,
      ssh_url: `git@${new URL(baseUrl).hostname}:${repo.path}.git`,
      default_branch: 'main',
    },
    pusher: user,
    sender: user,
  };
}

function subscribed(repo: HostRepo, hook: HostHook, push: PushEvent): boolean {
  if (!hook.active) return false;
  if (repo.provider === 'gitea') return hook.events.includes('push');
  return hook.events.includes(push.ref.startsWith('refs/tags/') ? 'tag_push' : 'push');
}

/** GitLab sends the hook's secret token itself; Gitea signs the body with it. */
function providerHeaders(
  baseUrl: string,
  repo: HostRepo,
  hook: HostHook,
  push: PushEvent,
  body: string,
): Record<string, string> {
  const id = randomUUID();
  if (repo.provider === 'gitlab') {
    return {
      'user-agent': 'GitLab/17.6.0',
      'x-gitlab-event': push.ref.startsWith('refs/tags/') ? 'Tag Push Hook' : 'Push Hook',
      'x-gitlab-token': hook.secret,
      'x-gitlab-event-uuid': id,
      'x-gitlab-webhook-uuid': randomUUID(),
      'x-gitlab-instance': baseUrl,
      'idempotency-key': id,
    };
  }
  const signature = createHmac('sha256', hook.secret).update(body).digest('hex');
  return {
    'user-agent': 'Go-http-client/1.1',
    'x-gitea-event': 'push',
    'x-gitea-event-type': 'push',
    'x-gitea-delivery': id,
    'x-gitea-signature': signature,
    'x-github-event': 'push',
    'x-github-delivery': id,
    'x-hub-signature-256': `sha256=${signature}`,
  };
}

/** What the server sends to each of the repository's hooks that takes this push. */
export function pushDeliveries(baseUrl: string, repo: HostRepo, push: PushEvent): Delivery[] {
  return repo.hooks
    .filter((hook) => subscribed(repo, hook, push))
    .map((hook): Delivery => {
      const payload =
        repo.provider === 'gitlab'
          ? gitlabPush(baseUrl, repo, push)
          : giteaPush(baseUrl, repo, push);
      const body = JSON.stringify(payload);
      return {
        hookId: hook.id,
        url: hook.url,
        body,
        headers: {
          'content-type': 'application/json',
          ...providerHeaders(baseUrl, repo, hook, push, body),
        },
      };
    });
}
