import type { CheckoutAuth } from '../../core/runner-protocol';
import { decryptSecret } from '../../core/secret-box';
import type { Logger } from '../../platform/logger';
import { type Fetch, githubInstallationToken } from '../reporting/commit-status';
import { defaultApiBase, GitCredentialsSchema, repoPath } from '../reporting/report';

export interface CheckoutAuthDeps {
  encryptionKey: string;
  fetch: Fetch;
  logger: Logger;
}

interface ProjectRepository {
  id: string;
  gitProvider: string;
  repoUrl: string | null;
  gitCredentialsEncrypted: string | null;
}

/**
 * Clone credentials for a project connected through the workspace's GitHub App: a fresh
 * installation token (one hour) that reads the contents of this one repository and nothing
 * else, so a runner holds no more than the job needs. Other projects get null (public
 * repositories, or credentials in the URL as before).
 *
 * A token that cannot be minted (GitHub down, app uninstalled) gives null and a warning instead
 * of failing the spec: a public repository still builds, and a private one fails its checkout
 * with git's own "authentication failed", which the build log shows.
 */
export async function checkoutAuthFor(
  deps: CheckoutAuthDeps,
  project: ProjectRepository,
): Promise<CheckoutAuth | null> {
  const { repoUrl, gitCredentialsEncrypted: sealed } = project;
  if (project.gitProvider !== 'github' || !repoUrl || !sealed) return null;
  try {
    const credentials = GitCredentialsSchema.parse(
      JSON.parse(await decryptSecret(deps.encryptionKey, sealed)),
    );
    if (credentials.kind !== 'github_app') return null;
    const name = repoPath(repoUrl).split('/').pop() ?? '';
    const token = await githubInstallationToken(
      {
        appId: credentials.app_id,
        privateKeyPem: credentials.private_key_pem,
        apiBase: credentials.api_base ?? defaultApiBase('github', repoUrl),
      },
      credentials.installation_id,
      deps.fetch,
      { repositories: [name], permissions: { contents: 'read' } },
    );
    return { username: 'x-access-token', password: token };
  } catch (error) {
    deps.logger.warn('checkout_token_failed', {
      project_id: project.id,
      error: error instanceof Error ? error.message : String(error),
    });
    return null;
  }
}
