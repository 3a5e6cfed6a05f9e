import { eq } from 'drizzle-orm';
import { sha256Hex } from '../../core/digest';
import { HOOK_PROVIDERS, type HookProvider, hookTarget } from '../../core/git-hooks';
import { checkOutboundUrl, type OutboundUrlPolicy } from '../../core/outbound-url';
import { decryptSecret } from '../../core/secret-box';
import type { Database } from '../../db/client';
import { type Project, type ProjectGitHook, projectGitHooks, projects } from '../../db/schema';
import { ApiError } from '../../platform/errors';
import type { Audit } from '../audit';
import type { Fetch } from '../reporting/commit-status';
import { createHook, deleteHook, findHook, type HookApi, updateHook } from './provider-api';

/**
 * Creating, updating and deleting a project's repository webhook on GitLab or Gitea with a token
 * the user supplies (docs/webhooks.md, "Created by Sparki"). The token is used for the calls of
 * one request and never stored; what is stored is where the hook is.
 */
export interface HookDeps {
  db: Database;
  encryptionKey: string;
  fetch: Fetch;
  /** The platform's URL: the hook sends to `${publicUrl}/webhooks/{provider}/{project}`. */
  publicUrl: string;
  /** Which API URLs may be called (the local stack and the tests: a loopback git server too). */
  outbound: OutboundUrlPolicy;
}

export interface GitHookState {
  hook: ProjectGitHook;
  /** False when the webhook secret was replaced after the hook got it: create it again. */
  secretCurrent: boolean;
}

export function projectHookUrl(publicUrl: string, provider: HookProvider, projectId: string) {
  return `${publicUrl.replace(/\/+$/, '')}/webhooks/${provider}/${projectId}`;
}

async function projectOrFail(db: Database, projectId: string): Promise<Project> {
  const [project] = await db.select().from(projects).where(eq(projects.id, projectId));
  if (!project) throw new ApiError('not_found', 'Project not found');
  return project;
}

async function currentSecret(deps: HookDeps, project: Project): Promise<string | null> {
  return project.webhookSecretEncrypted
    ? decryptSecret(deps.encryptionKey, project.webhookSecretEncrypted)
    : null;
}

async function recordOf(db: Database, projectId: string) {
  const [hook] = await db
    .select()
    .from(projectGitHooks)
    .where(eq(projectGitHooks.projectId, projectId));
  return hook;
}

export async function gitHookState(
  deps: HookDeps,
  projectId: string,
): Promise<GitHookState | null> {
  const project = await projectOrFail(deps.db, projectId);
  const hook = await recordOf(deps.db, projectId);
  if (!hook) return null;
  const secret = await currentSecret(deps, project);
  return {
    hook,
    secretCurrent: secret !== null && (await sha256Hex(secret)) === hook.secretSha256,
  };
}

function checkedApi(deps: HookDeps, api: Omit<HookApi, 'fetch'>): HookApi {
  const checked = checkOutboundUrl(api.apiBase, deps.outbound);
  if (!checked.ok) {
    throw new ApiError('validation_failed', `The ${api.provider} API URL ${checked.message}`, {
      fields: [{ path: 'api_url', message: checked.message, code: 'custom' }],
    });
  }
  return { ...api, fetch: deps.fetch };
}

/** Where the project's hook goes: its provider, API and repository, checked against SSRF. */
function targetOf(deps: HookDeps, project: Project, token: string, apiUrl?: string): HookApi {
  const provider = project.gitProvider;
  if (!(HOOK_PROVIDERS as readonly string[]).includes(provider)) {
    throw new ApiError(
      'validation_failed',
      provider === 'github'
        ? 'A GitHub project gets its webhooks through the GitHub App (docs/github-app.md)'
        : 'Set the project’s git provider to gitlab or gitea first',
    );
  }
  if (!project.repoUrl) {
    throw new ApiError('validation_failed', 'The project has no repository URL');
  }
  const hookProvider = provider as HookProvider;
  let target: ReturnType<typeof hookTarget>;
  try {
    target = hookTarget(hookProvider, project.repoUrl, apiUrl);
  } catch (error) {
    throw new ApiError(
      'validation_failed',
      `Cannot place the repository: ${(error as Error).message}`,
    );
  }
  return checkedApi(deps, { provider: hookProvider, token, ...target });
}

/**
 * Creates the project's hook on its GitLab or Gitea repository, or, when the repository already
 * has a hook sending to Sparki's URL for the project, updates that one (with the current secret):
 * running it twice leaves one hook.
 */
export async function installGitHook(
  deps: HookDeps,
  projectId: string,
  input: { token: string; apiUrl?: string | undefined },
  audit: Audit,
): Promise<GitHookState & { result: 'created' | 'updated' }> {
  const project = await projectOrFail(deps.db, projectId);
  const api = targetOf(deps, project, input.token, input.apiUrl);
  const secret = await currentSecret(deps, project);
  if (!secret) {
    throw new ApiError(
      'validation_failed',
      'The project has no webhook secret: replace it first (POST /api/projects/{id}/webhook-secret)',
    );
  }
  const url = projectHookUrl(deps.publicUrl, api.provider, projectId);
  const existing = await findHook(api, url);
  let hookId: number;
  if (existing === undefined) hookId = await createHook(api, url, secret);
  else {
    await updateHook(api, existing, url, secret);
    hookId = existing;
  }
  const result = existing === undefined ? 'created' : 'updated';
  const values = {
    projectId,
    provider: api.provider,
    apiBase: api.apiBase,
    repository: api.repository,
    hookId,
    url,
    secretSha256: await sha256Hex(secret),
  };
  const hook = await deps.db.transaction(async (tx) => {
    const [row] = await tx
      .insert(projectGitHooks)
      .values(values)
      .onConflictDoUpdate({
        target: projectGitHooks.projectId,
        set: { ...values, updatedAt: new Date() },
      })
      .returning();
    await audit(tx, {
      action: `project.git_hook_${result}`,
      targetType: 'project',
      targetId: projectId,
      metadata: { provider: api.provider, hook_id: hookId, repository: api.repository },
    });
    return row!;
  });
  return { hook, secretCurrent: true, result };
}

export type RemovedHook = 'deleted' | 'already_gone' | 'forgotten';

/**
 * Deletes the hook Sparki created from the repository (with a token), or only forgets it (without
 * one: the hook stays on the provider, e.g. when the token is lost or the repository is gone).
 */
export async function removeGitHook(
  deps: HookDeps,
  projectId: string,
  token: string | undefined,
  audit: Audit,
): Promise<RemovedHook> {
  await projectOrFail(deps.db, projectId);
  const hook = await recordOf(deps.db, projectId);
  if (!hook) {
    throw new ApiError('not_found', 'No webhook was created through Sparki for this project');
  }
  let removed: RemovedHook = 'forgotten';
  if (token) {
    const api = checkedApi(deps, {
      provider: hook.provider as HookProvider,
      apiBase: hook.apiBase,
      repository: hook.repository,
      token,
    });
    removed = await deleteHook(api, hook.hookId);
  }
  await deps.db.transaction(async (tx) => {
    await tx.delete(projectGitHooks).where(eq(projectGitHooks.id, hook.id));
    await audit(tx, {
      action: 'project.git_hook_removed',
      targetType: 'project',
      targetId: projectId,
      metadata: { provider: hook.provider, hook_id: hook.hookId, removed },
    });
  });
  return removed;
}
