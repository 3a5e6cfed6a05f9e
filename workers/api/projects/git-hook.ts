import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { HOOK_PROVIDERS } from '../../../core/git-hooks';
import {
  type GitHookState,
  gitHookState,
  type HookDeps,
  installGitHook,
  removeGitHook,
} from '../../../domain/git-hooks/hooks';
import { outboundPolicy } from '../../../platform/config';
import { auditFor } from '../../audit';
import { authorizeProject } from '../../auth/authorize';
import type { HonoEnv } from '../../context';
import { openApiErrorResponses } from '../../errors';
import { iso, json, jsonBody } from '../../openapi';
import { newRouter } from '../../router';
import { ProjectParams } from './schemas';

const TokenSchema = z
  .string()
  .min(1)
  .max(1000)
  .openapi({
    description:
      'A GitLab personal, project or group access token with the `api` scope (Maintainer role), or ' +
      'a Gitea/Forgejo access token with `write:repository` (repository admin). Used for this ' +
      'request only, never stored.',
    example: 'glpat-xxxxxxxxxxxxxxxxxxxx',
  });

const CreateGitHookSchema = z
  .object({
    token: TokenSchema,
    api_url: z
      .url()
      .max(500)
      .optional()
      .openapi({
        description:
          'The provider’s API root, e.g. `https://gitlab.example.com/api/v4`. Default: the ' +
          'repository’s host with `/api/v4` (GitLab) or `/api/v1` (Gitea).',
      }),
  })
  .openapi('CreateGitHook');

const RemoveGitHookSchema = z
  .object({
    token: TokenSchema.optional().openapi({
      description: 'Deletes the hook on the provider; without it Sparki only forgets the hook.',
    }),
  })
  .openapi('RemoveGitHook');

const GitHookSchema = z
  .object({
    installed: z.boolean(),
    provider: z.enum(HOOK_PROVIDERS).optional(),
    api_url: z.string().optional(),
    repository: z.string().optional(),
    hook_id: z.number().int().optional(),
    url: z.string().optional().openapi({ description: 'Where the hook sends deliveries' }),
    secret_current: z
      .boolean()
      .optional()
      .openapi({
        description:
          'False when the webhook secret was replaced after the hook was created: create it again ' +
          'to give the hook the new secret.',
      }),
    created_at: z.string().nullable().optional(),
    updated_at: z.string().nullable().optional(),
  })
  .openapi('GitHook', { description: 'The repository webhook Sparki created, if any' });

const CreatedGitHookSchema = GitHookSchema.extend({
  result: z.enum(['created', 'updated']),
}).openapi('CreatedGitHook');

const RemovedGitHookSchema = z
  .object({
    removed: z.enum(['deleted', 'already_gone', 'forgotten']).openapi({
      description:
        '`deleted` on the provider, `already_gone` there before, or `forgotten` (no token: the ' +
        'hook stays on the provider)',
    }),
  })
  .openapi('RemovedGitHook');

function toGitHook(state: GitHookState | null) {
  if (!state) return { installed: false };
  const { hook } = state;
  return {
    installed: true,
    provider: hook.provider as (typeof HOOK_PROVIDERS)[number],
    api_url: hook.apiBase,
    repository: hook.repository,
    hook_id: hook.hookId,
    url: hook.url,
    secret_current: state.secretCurrent,
    created_at: iso(hook.createdAt),
    updated_at: iso(hook.updatedAt),
  };
}

function hookDeps(c: Context<HonoEnv>): HookDeps {
  const { db, config } = c.get('services');
  return {
    db: db(),
    encryptionKey: config.ENCRYPTION_KEY,
    fetch: (request) => fetch(request),
    publicUrl: config.PUBLIC_URL,
    outbound: outboundPolicy(config),
  };
}

/** `/api/projects/{id}/git-hook`: the project's webhook on GitLab or Gitea, made by Sparki. */
export const gitHookRoutes = newRouter();

gitHookRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/{id}/git-hook',
    tags: ['projects'],
    summary: 'The repository webhook Sparki created on GitLab or Gitea, if any',
    request: { params: ProjectParams },
    responses: {
      200: { description: 'The hook', ...json(GitHookSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    await authorizeProject(c, id, 'viewer');
    return c.json(toGitHook(await gitHookState(hookDeps(c), id)), 200);
  },
);

gitHookRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/{id}/git-hook',
    tags: ['projects'],
    summary: 'Create (or update) the project’s webhook on GitLab or Gitea with your token (admin)',
    description:
      'Calls the provider’s API with the token: lists the repository’s hooks, updates the one ' +
      'sending to this project’s webhook URL if there is one, else creates it, with the ' +
      'project’s webhook secret and the push, tag and merge/pull request events. Idempotent. ' +
      'The token is not stored. Provider refusals: 401 → 400 (token not accepted), 403 → 403 ' +
      '(scope or role missing), 404 → 404 (repository not found), anything else or no answer → ' +
      '502. Audited as `project.git_hook_created` / `project.git_hook_updated`.',
    request: { params: ProjectParams, ...jsonBody(CreateGitHookSchema) },
    responses: {
      200: { description: 'An existing hook was updated', ...json(CreatedGitHookSchema) },
      201: { description: 'The hook was created', ...json(CreatedGitHookSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const input = c.req.valid('json');
    const access = await authorizeProject(c, id, 'admin');
    const installed = await installGitHook(
      hookDeps(c),
      id,
      { token: input.token, apiUrl: input.api_url },
      auditFor(c, access),
    );
    const body = { ...toGitHook(installed), result: installed.result };
    return installed.result === 'created' ? c.json(body, 201) : c.json(body, 200);
  },
);

gitHookRoutes.openapi(
  createRoute({
    method: 'delete',
    path: '/{id}/git-hook',
    tags: ['projects'],
    summary: 'Delete the webhook Sparki created (with a token), or forget it (admin)',
    description:
      'With `token`, the hook is deleted on the provider (a hook already gone there is fine) ' +
      'and then forgotten; without, Sparki only forgets it. Audited as ' +
      '`project.git_hook_removed`.',
    request: {
      params: ProjectParams,
      body: { ...json(RemoveGitHookSchema), required: false },
    },
    responses: {
      200: { description: 'Removed', ...json(RemovedGitHookSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const { token } = c.req.valid('json');
    const access = await authorizeProject(c, id, 'admin');
    const removed = await removeGitHook(hookDeps(c), id, token, auditFor(c, access));
    return c.json({ removed }, 200);
  },
);
