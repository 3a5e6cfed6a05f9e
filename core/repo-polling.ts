import { z } from 'zod';
import { isPrivateHost } from './private-host';
import { isCommitSha, shortRefProblem } from './webhooks/refs';

/**
 * Repositories the platform cannot reach (a path or `file://` URL on a runner's machine, a git
 * server on a private network): a runner polls their branch heads with `git ls-remote` and
 * reports them through the runner protocol. docs/runner-protocol.md and docs/cli.md explain it.
 */

/** The interval a local or private-network repository without a webhook provider gets. */
export const DEFAULT_LOCAL_POLL_INTERVAL_SECONDS = 30;
export const MIN_POLL_INTERVAL_SECONDS = 5;
export const MAX_POLL_INTERVAL_SECONDS = 24 * 60 * 60;
/** A report lists at most this many branches; a repository with more is polled for the first. */
export const MAX_POLLED_BRANCHES = 1000;

/** `poll_interval_seconds`: 0 turns polling off, else MIN…MAX seconds. */
export const PollIntervalSchema = z
  .number()
  .int()
  .min(0)
  .max(MAX_POLL_INTERVAL_SECONDS)
  .refine((value) => value === 0 || value >= MIN_POLL_INTERVAL_SECONDS, {
    message: `0 (off) or at least ${MIN_POLL_INTERVAL_SECONDS} seconds`,
  });

/**
 * A repository only something on the user's side can reach: an absolute path, a `file://` URL,
 * or a URL or scp-style address whose host is a loopback, private or link-local address or a
 * local name (`.local`, `.lan`, a single label).
 */
export function isPrivateRepoUrl(url: string): boolean {
  const text = url.trim();
  if (text.startsWith('/') || /^file:/i.test(text)) return true;
  let host: string | undefined;
  const scp = /^(?:[\w.-]+@)?([\w.-]+):(?!\/\/)/.exec(text);
  if (scp && !/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) host = scp[1];
  else {
    try {
      host = new URL(text).hostname;
    } catch {
      return false;
    }
  }
  return isPrivateHost(host ?? '');
}

export interface PollableProject {
  repoUrl: string | null;
  gitProvider: string;
  /** `projects.settings`' `poll_interval_seconds`, if set. */
  pollIntervalSeconds?: number | null;
}

/**
 * How often the project's branch heads are polled, in seconds; null when they are not. Set on
 * the project: 0 is off, anything else is the interval. Unset: a local or private-network
 * repository of a project without a webhook provider (`git_provider: none`) is polled every
 * DEFAULT_LOCAL_POLL_INTERVAL_SECONDS; anything else (a provider sends webhooks) is not.
 */
export function pollInterval(project: PollableProject): number | null {
  if (!project.repoUrl) return null;
  const set = project.pollIntervalSeconds;
  if (typeof set === 'number') return set === 0 ? null : set;
  if (project.gitProvider === 'none' && isPrivateRepoUrl(project.repoUrl)) {
    return DEFAULT_LOCAL_POLL_INTERVAL_SECONDS;
  }
  return null;
}

export const BranchHeadSchema = z.object({
  branch: z.string().refine((name) => shortRefProblem('heads', name) === null, {
    message: 'not a valid branch name',
  }),
  sha: z.string().refine(isCommitSha, { message: 'not a full commit sha' }),
});
export type BranchHead = z.infer<typeof BranchHeadSchema>;

/**
 * The branch heads in `git ls-remote --heads` output (`<sha>\t<ref>` lines), sorted by branch;
 * lines that are not a valid branch at a full sha are skipped.
 */
export function parseLsRemote(output: string): BranchHead[] {
  const heads = new Map<string, string>();
  for (const line of output.split('\n')) {
    const match = /^([0-9a-fA-F]+)\trefs\/heads\/(.+)$/.exec(line.trimEnd());
    if (!match) continue;
    const parsed = BranchHeadSchema.safeParse({ branch: match[2], sha: match[1]!.toLowerCase() });
    if (parsed.success) heads.set(parsed.data.branch, parsed.data.sha);
  }
  return [...heads]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([branch, sha]) => ({ branch, sha }));
}

export interface HeadChanges {
  /** New branches and branches whose head moved. */
  moved: BranchHead[];
  /** Branches that are gone, with the head they had. */
  deleted: BranchHead[];
}

/** What changed from one set of heads to the next. */
export function diffHeads(
  before: readonly BranchHead[],
  after: readonly BranchHead[],
): HeadChanges {
  const previous = new Map(before.map((head) => [head.branch, head.sha]));
  const next = new Set(after.map((head) => head.branch));
  return {
    moved: after.filter((head) => previous.get(head.branch) !== head.sha),
    deleted: before.filter((head) => !next.has(head.branch)),
  };
}

/** FNV-1a, 32 bits: a stable, evenly spread hash for `assignedRunner`. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/**
 * The one runner, among those connected, that polls a project (rendezvous hashing): the same
 * for as long as it stays connected, and a runner coming or going moves only its own share.
 */
export function assignedRunner(
  projectId: string,
  runnerIds: readonly string[],
): string | undefined {
  let best: string | undefined;
  let bestScore = -1;
  for (const runnerId of runnerIds) {
    const score = fnv1a(`${projectId}:${runnerId}`);
    if (score > bestScore || (score === bestScore && best !== undefined && runnerId < best)) {
      best = runnerId;
      bestScore = score;
    }
  }
  return best;
}
