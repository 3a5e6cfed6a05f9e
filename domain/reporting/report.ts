import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { decryptSecret } from '../../core/secret-box';
import type { Database } from '../../db/client';
import { projects } from '../../db/schema';
import type { Logger } from '../../platform/logger';
import {
  type CommitStatus,
  type Fetch,
  giteaCommitStatus,
  giteaPullRequestComment,
  githubCommitStatus,
  githubInstallationToken,
  githubPullRequestComment,
  gitlabCommitStatus,
  gitlabMergeRequestNote,
  type PullRequestComment,
  type RepoCoordinates,
} from './commit-status';

/**
 * How Sparki reports back to a project's repository, stored encrypted per project. GitHub goes
 * through a GitHub App (its own JWT, then an installation token); GitLab and Gitea take a token.
 * Without `api_base` the API is derived from the repository's host.
 */
export const GitCredentialsSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('github_app'),
    app_id: z.string().regex(/^\d+$/, 'a GitHub App id is a number'),
    private_key_pem: z
      .string()
      .includes('-----BEGIN PRIVATE KEY-----', { message: 'a PKCS#8 PEM private key' }),
    installation_id: z.number().int().positive(),
    api_base: z.url().optional(),
  }),
  z.strictObject({
    kind: z.literal('token'),
    token: z.string().min(1),
    api_base: z.url().optional(),
  }),
]);
export type GitCredentials = z.infer<typeof GitCredentialsSchema>;

type Provider = 'github' | 'gitlab' | 'gitea';

/** The provider's API root for a repository URL, e.g. GitHub Enterprise's `/api/v3`. */
export function defaultApiBase(provider: Provider, repoUrl: string): string {
  const { origin, hostname } = new URL(repoUrl);
  if (provider === 'github') {
    return hostname === 'github.com' ? 'https://api.github.com' : `${origin}/api/v3`;
  }
  return provider === 'gitlab' ? `${origin}/api/v4` : `${origin}/api/v1`;
}

/** `owner/name` (GitLab: the full namespace path) from a repository URL. */
export function repoPath(repoUrl: string): string {
  return new URL(repoUrl).pathname
    .replace(/^\/+/, '')
    .replace(/\.git$/, '')
    .replace(/\/+$/, '');
}

export interface ReportDeps {
  db: Database;
  encryptionKey: string;
  fetch: Fetch;
  logger: Logger;
}

const COMMIT_STATUS = {
  github: githubCommitStatus,
  gitlab: gitlabCommitStatus,
  gitea: giteaCommitStatus,
} as const;

const PULL_REQUEST_COMMENT = {
  github: githubPullRequestComment,
  gitlab: gitlabMergeRequestNote,
  gitea: giteaPullRequestComment,
} as const;

/** The hidden first line of the preview comment an environment keeps on a pull request. */
export function previewCommentMarker(environmentId: string): string {
  return `<!-- sparki:preview ${environmentId} -->`;
}

/** Where and as whom to report: GitHub trades the App's JWT for an installation token first. */
async function repositoryTarget(
  deps: ReportDeps,
  provider: Provider,
  repoUrl: string,
  sealed: string,
): Promise<RepoCoordinates> {
  const credentials = GitCredentialsSchema.parse(
    JSON.parse(await decryptSecret(deps.encryptionKey, sealed)),
  );
  const apiBase = credentials.api_base ?? defaultApiBase(provider, repoUrl);
  const repo = repoPath(repoUrl);
  if (provider === 'github') {
    if (credentials.kind !== 'github_app') throw new Error('GitHub reporting needs a GitHub App');
    const token = await githubInstallationToken(
      { appId: credentials.app_id, privateKeyPem: credentials.private_key_pem, apiBase },
      credentials.installation_id,
      deps.fetch,
    );
    return { apiBase, repo, token };
  }
  if (credentials.kind !== 'token') throw new Error(`${provider} reporting needs a token`);
  return { apiBase, repo, token: credentials.token };
}

/**
 * Reports one status to the project's repository when the project has reporting credentials,
 * and optionally keeps Sparki's comment on the pull (merge) request up to date. Never throws: a
 * provider that is down or refuses must not fail the build or deployment it reports on. Answers
 * whether the project reports at all (false: no credentials or no repository).
 */
export async function reportToRepository(
  deps: ReportDeps,
  projectId: string,
  status: CommitStatus,
  pullRequestComment?: PullRequestComment,
): Promise<boolean> {
  const [project] = await deps.db
    .select({
      gitProvider: projects.gitProvider,
      repoUrl: projects.repoUrl,
      gitCredentialsEncrypted: projects.gitCredentialsEncrypted,
    })
    .from(projects)
    .where(eq(projects.id, projectId));
  if (!project?.gitCredentialsEncrypted || !project.repoUrl || project.gitProvider === 'none') {
    return false;
  }
  const provider = project.gitProvider;
  const failed = (event: string, err: unknown) =>
    deps.logger.warn(event, {
      project_id: projectId,
      provider,
      context: status.context,
      error: err instanceof Error ? err.message : String(err),
    });
  let target: RepoCoordinates;
  try {
    target = await repositoryTarget(
      deps,
      provider,
      project.repoUrl,
      project.gitCredentialsEncrypted,
    );
  } catch (err) {
    failed('commit_status_failed', err);
    return true;
  }
  try {
    await COMMIT_STATUS[provider](target, status, deps.fetch);
  } catch (err) {
    failed('commit_status_failed', err);
  }
  if (pullRequestComment) {
    try {
      await PULL_REQUEST_COMMENT[provider](target, pullRequestComment, deps.fetch);
    } catch (err) {
      failed('pull_request_comment_failed', err);
    }
  }
  return true;
}
