import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { decryptSecret } from '../../core/secret-box';
import type { Database } from '../../db/client';
import { projects } from '../../db/schema';
import type { Logger } from '../../workers/logger';
import {
  type CommitStatus,
  giteaCommitStatus,
  githubCommitStatus,
  githubInstallationToken,
  githubPullRequestComment,
  gitlabCommitStatus,
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
  fetch: (request: Request) => Promise<Response>;
  logger: Logger;
}

/**
 * Reports one status to the project's repository when the project has reporting credentials,
 * and on GitHub optionally comments on the pull request. Never throws: a provider that is down
 * or refuses must not fail the build or deployment it reports on.
 */
export async function reportToRepository(
  deps: ReportDeps,
  projectId: string,
  status: CommitStatus,
  pullRequestComment?: { number: number; body: string },
) {
  const [project] = await deps.db
    .select({
      gitProvider: projects.gitProvider,
      repoUrl: projects.repoUrl,
      gitCredentialsEncrypted: projects.gitCredentialsEncrypted,
    })
    .from(projects)
    .where(eq(projects.id, projectId));
  if (!project?.gitCredentialsEncrypted || !project.repoUrl || project.gitProvider === 'none') {
    return;
  }
  const provider = project.gitProvider;
  try {
    const credentials = GitCredentialsSchema.parse(
      JSON.parse(await decryptSecret(deps.encryptionKey, project.gitCredentialsEncrypted)),
    );
    const apiBase = credentials.api_base ?? defaultApiBase(provider, project.repoUrl);
    const repo = repoPath(project.repoUrl);
    if (provider === 'github') {
      if (credentials.kind !== 'github_app') throw new Error('GitHub reporting needs a GitHub App');
      const token = await githubInstallationToken(
        { appId: credentials.app_id, privateKeyPem: credentials.private_key_pem, apiBase },
        credentials.installation_id,
        deps.fetch,
      );
      const target: RepoCoordinates = { apiBase, repo, token };
      await githubCommitStatus(target, status, deps.fetch);
      if (pullRequestComment) {
        await githubPullRequestComment(
          target,
          pullRequestComment.number,
          pullRequestComment.body,
          deps.fetch,
        );
      }
      return;
    }
    if (credentials.kind !== 'token') throw new Error(`${provider} reporting needs a token`);
    const target: RepoCoordinates = { apiBase, repo, token: credentials.token };
    const send = provider === 'gitlab' ? gitlabCommitStatus : giteaCommitStatus;
    await send(target, status, deps.fetch);
  } catch (err) {
    deps.logger.warn('commit_status_failed', {
      project_id: projectId,
      provider,
      context: status.context,
      error: err instanceof Error ? err.message : String(err),
    });
  }
}
