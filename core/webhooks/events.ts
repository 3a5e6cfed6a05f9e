import { z } from 'zod';
import type { WebhookProvider } from './signatures';

/** Where a delivery came from, so it can be matched to projects (`repoKey`). */
export interface RepoRef {
  urls: string[];
}

export type PullRequestAction = 'opened' | 'reopened' | 'synchronize' | 'closed';

/** What Sparki does something with; everything else is recorded and answered 202. */
export type GitEvent =
  | { kind: 'ping' }
  | { kind: 'push'; repo: RepoRef; branch: string; sha: string; message: string | null }
  | { kind: 'tag'; repo: RepoRef; tag: string; sha: string }
  | { kind: 'branch_deleted'; repo: RepoRef; branch: string }
  | {
      kind: 'pull_request';
      action: PullRequestAction;
      repo: RepoRef;
      number: number;
      branch: string;
      base: string;
      sha: string;
      merged: boolean;
    }
  | { kind: 'ignored'; event: string; reason: string };

export interface Delivery {
  /** The provider's id of this delivery: the same id again is a redelivery. */
  id: string;
  /** The provider's event name, as sent in its header. */
  event: string;
}

export class WebhookPayloadError extends Error {}

const ZERO_SHA = /^0+$/;
const BRANCH_REF = 'refs/heads/';
const TAG_REF = 'refs/tags/';

/** A host/path form of a repository URL so https, ssh and `.git` variants compare equal. */
export function repoKey(url: string): string {
  let text = url.trim().toLowerCase();
  const scp = /^(?:[\w.-]+@)?([\w.-]+):(?!\/\/)(.+)$/.exec(text);
  if (scp && !/^[a-z][a-z0-9+.-]*:\/\//.test(text)) text = `ssh://${scp[1]}/${scp[2]}`;
  try {
    const parsed = new URL(text);
    text = `${parsed.hostname}${parsed.pathname}`;
  } catch {
    // A local path (tests, self-hosted mirrors): compare it as written.
  }
  return text.replace(/\/+$/, '').replace(/\.git$/, '');
}

function repo(...urls: (string | null | undefined)[]): RepoRef {
  return { urls: urls.filter((url): url is string => Boolean(url)) };
}

function parse<T extends z.ZodType>(schema: T, payload: unknown, what: string): z.infer<T> {
  const result = schema.safeParse(payload);
  if (!result.success) {
    const fields = result.error.issues.map((issue) => issue.path.join('.') || '(root)');
    throw new WebhookPayloadError(
      `Not a valid ${what} payload (${[...new Set(fields)].join(', ')})`,
    );
  }
  return result.data;
}

function fromRef(
  ref: string,
  repoRef: RepoRef,
  sha: string,
  deleted: boolean,
  message: string | null,
): GitEvent {
  if (ref.startsWith(TAG_REF)) {
    return deleted
      ? { kind: 'ignored', event: 'push', reason: 'tag deleted' }
      : { kind: 'tag', repo: repoRef, tag: ref.slice(TAG_REF.length), sha };
  }
  if (!ref.startsWith(BRANCH_REF)) return { kind: 'ignored', event: 'push', reason: `ref ${ref}` };
  const branch = ref.slice(BRANCH_REF.length);
  return deleted
    ? { kind: 'branch_deleted', repo: repoRef, branch }
    : { kind: 'push', repo: repoRef, branch, sha, message };
}

// GitHub and Gitea/Forgejo share the push and pull request shapes.
const HubRepository = z.looseObject({
  clone_url: z.string(),
  html_url: z.string().nullish(),
  ssh_url: z.string().nullish(),
});

const HubPush = z.looseObject({
  ref: z.string(),
  after: z.string(),
  deleted: z.boolean().optional(),
  head_commit: z.looseObject({ message: z.string() }).nullish(),
  repository: HubRepository,
});

const HubPullRequest = z.looseObject({
  action: z.string(),
  number: z.number().int(),
  pull_request: z.looseObject({
    head: z.looseObject({ ref: z.string(), sha: z.string() }),
    base: z.looseObject({ ref: z.string() }),
    merged: z.boolean().nullish(),
  }),
  repository: HubRepository,
});

const HUB_PR_ACTIONS: Record<string, PullRequestAction> = {
  opened: 'opened',
  reopened: 'reopened',
  synchronize: 'synchronize',
  // Gitea's name for new commits on the head branch.
  synchronized: 'synchronize',
  closed: 'closed',
};

function hubPush(payload: unknown): GitEvent {
  const push = parse(HubPush, payload, 'push');
  const repoRef = repo(
    push.repository.clone_url,
    push.repository.html_url,
    push.repository.ssh_url,
  );
  const deleted = push.deleted ?? ZERO_SHA.test(push.after);
  return fromRef(push.ref, repoRef, push.after, deleted, push.head_commit?.message ?? null);
}

function hubPullRequest(payload: unknown): GitEvent {
  const event = parse(HubPullRequest, payload, 'pull request');
  const action = HUB_PR_ACTIONS[event.action];
  if (!action) return { kind: 'ignored', event: 'pull_request', reason: `action ${event.action}` };
  const { pull_request: pr, repository } = event;
  return {
    kind: 'pull_request',
    action,
    repo: repo(repository.clone_url, repository.html_url, repository.ssh_url),
    number: event.number,
    branch: pr.head.ref,
    base: pr.base.ref,
    sha: pr.head.sha,
    merged: pr.merged ?? false,
  };
}

// GitHub's and Gitea's `delete` event: `ref` is the short name (`feature/x`, not `refs/heads/…`).
const HubDelete = z.looseObject({
  ref: z.string(),
  ref_type: z.string(),
  repository: HubRepository,
});

function hubDelete(payload: unknown): GitEvent {
  const deleted = parse(HubDelete, payload, 'delete');
  if (deleted.ref_type !== 'branch') {
    return { kind: 'ignored', event: 'delete', reason: `${deleted.ref_type} deleted` };
  }
  const r = deleted.repository;
  return {
    kind: 'branch_deleted',
    repo: repo(r.clone_url, r.html_url, r.ssh_url),
    branch: deleted.ref.startsWith(BRANCH_REF) ? deleted.ref.slice(BRANCH_REF.length) : deleted.ref,
  };
}

function gitea(event: string, payload: unknown): GitEvent {
  switch (event) {
    case 'push':
      return hubPush(payload);
    case 'pull_request':
      return hubPullRequest(payload);
    case 'delete':
      return hubDelete(payload);
    default:
      return { kind: 'ignored', event, reason: 'not used by Sparki' };
  }
}

function github(event: string, payload: unknown): GitEvent {
  switch (event) {
    case 'ping':
      return { kind: 'ping' };
    case 'push':
      return hubPush(payload);
    case 'pull_request':
      return hubPullRequest(payload);
    // Sent beside a `push` with `deleted: true`; either one retires the branch's previews.
    case 'delete':
      return hubDelete(payload);
    default:
      return { kind: 'ignored', event, reason: 'not used by Sparki' };
  }
}

const GitLabProject = z.looseObject({
  git_http_url: z.string(),
  git_ssh_url: z.string().nullish(),
  web_url: z.string().nullish(),
});

const GitLabPush = z.looseObject({
  object_kind: z.enum(['push', 'tag_push']),
  ref: z.string(),
  after: z.string(),
  checkout_sha: z.string().nullish(),
  commits: z.array(z.looseObject({ id: z.string(), message: z.string() })).default([]),
  project: GitLabProject,
});

const GitLabMergeRequest = z.looseObject({
  object_kind: z.literal('merge_request'),
  project: GitLabProject,
  object_attributes: z.looseObject({
    iid: z.number().int(),
    action: z.string().nullish(),
    source_branch: z.string(),
    target_branch: z.string(),
    last_commit: z.looseObject({ id: z.string() }),
    // Present on `update` only when the source branch received commits.
    oldrev: z.string().nullish(),
  }),
});

const GITLAB_MR_ACTIONS: Record<string, PullRequestAction> = {
  open: 'opened',
  reopen: 'reopened',
  close: 'closed',
  merge: 'closed',
};

function gitlab(event: string, payload: unknown): GitEvent {
  if (event === 'Push Hook' || event === 'Tag Push Hook') {
    const push = parse(GitLabPush, payload, 'push');
    const p = push.project;
    const sha = push.checkout_sha ?? push.after;
    const message = push.commits.find((commit) => commit.id === sha)?.message ?? null;
    return fromRef(
      push.ref,
      repo(p.git_http_url, p.web_url, p.git_ssh_url),
      sha,
      ZERO_SHA.test(push.after),
      message,
    );
  }
  if (event === 'Merge Request Hook') {
    const mr = parse(GitLabMergeRequest, payload, 'merge request');
    const attrs = mr.object_attributes;
    const rawAction = attrs.action ?? '';
    const action =
      rawAction === 'update' && attrs.oldrev ? 'synchronize' : GITLAB_MR_ACTIONS[rawAction];
    if (!action) return { kind: 'ignored', event, reason: `action ${rawAction || 'none'}` };
    const p = mr.project;
    return {
      kind: 'pull_request',
      action,
      repo: repo(p.git_http_url, p.web_url, p.git_ssh_url),
      number: attrs.iid,
      branch: attrs.source_branch,
      base: attrs.target_branch,
      sha: attrs.last_commit.id,
      merged: rawAction === 'merge',
    };
  }
  return { kind: 'ignored', event, reason: 'not used by Sparki' };
}

const DELIVERY_HEADERS: Record<WebhookProvider, { id: string[]; event: string[] }> = {
  github: { id: ['x-github-delivery'], event: ['x-github-event'] },
  // Idempotency-Key (GitLab 17.4+) stays the same across retries; the event UUID is the fallback.
  gitlab: { id: ['idempotency-key', 'x-gitlab-event-uuid'], event: ['x-gitlab-event'] },
  gitea: {
    id: ['x-gitea-delivery', 'x-forgejo-delivery'],
    event: ['x-gitea-event', 'x-forgejo-event'],
  },
};

/** The delivery id and event name from the provider's headers, or null when one is missing. */
export function readDelivery(provider: WebhookProvider, headers: Headers): Delivery | null {
  const first = (names: string[]) => names.map((name) => headers.get(name)).find(Boolean);
  const id = first(DELIVERY_HEADERS[provider].id);
  const event = first(DELIVERY_HEADERS[provider].event);
  return id && event ? { id, event } : null;
}

/** Turns a verified, JSON-parsed delivery into the event Sparki acts on. */
export function toGitEvent(provider: WebhookProvider, event: string, payload: unknown): GitEvent {
  switch (provider) {
    case 'github':
      return github(event, payload);
    case 'gitlab':
      return gitlab(event, payload);
    case 'gitea':
      return gitea(event, payload);
  }
}
