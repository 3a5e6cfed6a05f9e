import { z } from 'zod';
import {
  displayCommitMessage,
  isCommitSha,
  isZeroSha,
  refNameProblem,
  shortRefProblem,
} from './refs';
import type { WebhookProvider } from './signatures';

/** Where a delivery came from, so it can be matched to projects (`repoKey`). */
export interface RepoRef {
  urls: string[];
}

export type PullRequestAction = 'opened' | 'reopened' | 'synchronize' | 'closed';

/** What Sparki does something with; everything else is recorded and answered 202. */
export type GitEvent =
  | { kind: 'ping' }
  | {
      kind: 'push';
      repo: RepoRef;
      branch: string;
      sha: string;
      message: string | null;
      /** The head commit's timestamp (ISO 8601), where its lead time starts; null when absent. */
      committedAt: string | null;
    }
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

export interface PayloadField {
  path: string;
  message: string;
}

/** A delivery Sparki cannot act on; `fields` says which payload values and why. */
export class WebhookPayloadError extends Error {
  constructor(
    message: string,
    readonly fields: PayloadField[] = [],
  ) {
    super(message);
  }
}

/** Longest delivery id or event name taken from a provider's headers (theirs are UUIDs, words). */
export const MAX_DELIVERY_HEADER_LENGTH = 200;

/** Builds store the pull request number as a Postgres integer. */
const MAX_PULL_REQUEST_NUMBER = 2 ** 31 - 1;

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

function invalid(what: string, fields: PayloadField[]): WebhookPayloadError {
  const listed = fields.map((field) => `${field.path} ${field.message}`).join('; ');
  return new WebhookPayloadError(`Not a valid ${what} payload: ${listed}`, fields);
}

function parse<T extends z.ZodType>(schema: T, payload: unknown, what: string): z.infer<T> {
  const result = schema.safeParse(payload);
  if (!result.success) {
    throw invalid(
      what,
      result.error.issues.map((issue) => ({
        path: issue.path.join('.') || '(root)',
        message: issue.message,
      })),
    );
  }
  return result.data;
}

const CommitSha = z
  .string()
  .refine(isCommitSha, 'is not a 40 or 64 hex digit commit sha')
  .transform((sha) => sha.toLowerCase());

function refChecked(problem: (ref: string) => string | null) {
  return z.string().superRefine((ref, ctx) => {
    const found = problem(ref);
    if (found) ctx.addIssue({ code: 'custom', message: found });
  });
}

/** A full ref (`refs/heads/main`) git accepts. */
const FullRef = refChecked(refNameProblem);
/** A branch's short name, as pull requests carry it. */
const BranchName = refChecked((name) => shortRefProblem('heads', name));
/** Action and ref type names are words; anything else is no event Sparki knows. */
const Word = z.string().regex(/^[\w.-]{0,64}$/, 'is not a word of at most 64 characters');
const PullRequestNumber = z.number().int().positive().max(MAX_PULL_REQUEST_NUMBER);
const CommitMessage = z.string().transform(displayCommitMessage);
/** Only informs the DORA lead time: a timestamp that is no date is dropped, not refused. */
const CommitTimestamp = z
  .string()
  .nullish()
  .transform((value) => (value && !Number.isNaN(Date.parse(value)) ? value : null));

interface PushedCommit {
  message: string | null;
  committedAt: string | null;
}

/** What a push to `ref` (already a valid full ref) at `sha` (already a valid sha) is. */
function fromRef(
  ref: string,
  repoRef: RepoRef,
  sha: string,
  deleted: boolean,
  head: PushedCommit,
): GitEvent {
  const kind = ref.startsWith(TAG_REF) ? 'tags' : ref.startsWith(BRANCH_REF) ? 'heads' : null;
  if (!kind) return { kind: 'ignored', event: 'push', reason: `ref ${ref}` };
  const name = ref.slice(`refs/${kind}/`.length);
  const problem = shortRefProblem(kind, name);
  if (problem) throw invalid('push', [{ path: 'ref', message: problem }]);
  if (!deleted && isZeroSha(sha)) {
    throw invalid('push', [{ path: 'after', message: 'is all zeros but the ref was not deleted' }]);
  }
  if (kind === 'tags') {
    return deleted
      ? { kind: 'ignored', event: 'push', reason: 'tag deleted' }
      : { kind: 'tag', repo: repoRef, tag: name, sha };
  }
  return deleted
    ? { kind: 'branch_deleted', repo: repoRef, branch: name }
    : { kind: 'push', repo: repoRef, branch: name, sha, ...head };
}

// GitHub and Gitea/Forgejo share the push and pull request shapes.
const HubRepository = z.looseObject({
  clone_url: z.string(),
  html_url: z.string().nullish(),
  ssh_url: z.string().nullish(),
});

const HubPush = z.looseObject({
  ref: FullRef,
  after: CommitSha,
  deleted: z.boolean().optional(),
  head_commit: z.looseObject({ message: CommitMessage, timestamp: CommitTimestamp }).nullish(),
  repository: HubRepository,
});

const HubPullRequest = z.looseObject({
  action: Word,
  number: PullRequestNumber,
  pull_request: z.looseObject({
    head: z.looseObject({ ref: BranchName, sha: CommitSha }),
    base: z.looseObject({ ref: BranchName }),
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
  const deleted = push.deleted ?? isZeroSha(push.after);
  return fromRef(push.ref, repoRef, push.after, deleted, {
    message: push.head_commit?.message ?? null,
    committedAt: push.head_commit?.timestamp ?? null,
  });
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
  ref_type: Word,
  repository: HubRepository,
});

function hubDelete(payload: unknown): GitEvent {
  const deleted = parse(HubDelete, payload, 'delete');
  if (deleted.ref_type !== 'branch') {
    return { kind: 'ignored', event: 'delete', reason: `${deleted.ref_type} deleted` };
  }
  const r = deleted.repository;
  const branch = deleted.ref.startsWith(BRANCH_REF)
    ? deleted.ref.slice(BRANCH_REF.length)
    : deleted.ref;
  const problem = shortRefProblem('heads', branch);
  if (problem) throw invalid('delete', [{ path: 'ref', message: problem }]);
  return { kind: 'branch_deleted', repo: repo(r.clone_url, r.html_url, r.ssh_url), branch };
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
  ref: FullRef,
  after: CommitSha,
  checkout_sha: CommitSha.nullish(),
  commits: z
    .array(z.looseObject({ id: z.string(), message: CommitMessage, timestamp: CommitTimestamp }))
    .default([]),
  project: GitLabProject,
});

const GitLabMergeRequest = z.looseObject({
  object_kind: z.literal('merge_request'),
  project: GitLabProject,
  object_attributes: z.looseObject({
    iid: PullRequestNumber,
    action: Word.nullish(),
    source_branch: BranchName,
    target_branch: BranchName,
    last_commit: z.looseObject({ id: CommitSha }),
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
    const head = push.commits.find((commit) => commit.id === sha);
    return fromRef(
      push.ref,
      repo(p.git_http_url, p.web_url, p.git_ssh_url),
      sha,
      isZeroSha(push.after),
      { message: head?.message ?? null, committedAt: head?.timestamp ?? null },
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

/**
 * The delivery id and event name from the provider's headers; throws WebhookPayloadError when
 * one is missing or longer than any provider sends.
 */
export function readDelivery(provider: WebhookProvider, headers: Headers): Delivery {
  const first = (names: string[]) => names.map((name) => headers.get(name)).find(Boolean);
  const id = first(DELIVERY_HEADERS[provider].id);
  const event = first(DELIVERY_HEADERS[provider].event);
  if (!id || !event) {
    throw new WebhookPayloadError(`Not a ${provider} delivery: its id or event header is missing`);
  }
  if (id.length > MAX_DELIVERY_HEADER_LENGTH || event.length > MAX_DELIVERY_HEADER_LENGTH) {
    throw new WebhookPayloadError(
      `The delivery id and event headers are limited to ${MAX_DELIVERY_HEADER_LENGTH} characters`,
    );
  }
  return { id, event };
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
