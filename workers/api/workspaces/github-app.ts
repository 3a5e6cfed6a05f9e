import { createRoute, z } from '@hono/zod-openapi';
import {
  GITHUB_APP_STATE_TTL_MS,
  githubAppManifest,
  sealGitHubAppState,
} from '../../../core/github-app';
import { decryptSecret, encryptSecret } from '../../../core/secret-box';
import { projectSlug } from '../../../core/slug';
import { githubAppOf, workspaceName } from '../../../domain/github-app/apps';
import {
  reachableRepositories,
  reachableRepository,
} from '../../../domain/github-app/repositories';
import { refreshWatches } from '../../../domain/polling/watch';
import { createProject, setGitCredentials } from '../../../domain/projects/projects';
import type { GitCredentials } from '../../../domain/reporting/report';
import { randomSecret } from '../../../platform/crypto';
import { ApiError } from '../../../platform/errors';
import { auditFor } from '../../audit';
import { authorizeWorkspace } from '../../auth/authorize';
import { openApiErrorResponses } from '../../errors';
import { json, jsonBody } from '../../openapi';
import { newRouter } from '../../router';
import {
  BranchSchema,
  ProjectSchema,
  RootDirSchema,
  SlugSchema,
  toProject,
} from '../projects/schemas';
import { WorkspaceParams } from './members';

const ManifestSchema = z
  .object({
    name: z.string(),
    url: z.string(),
    hook_attributes: z.object({ url: z.string(), active: z.boolean() }),
    redirect_url: z.string(),
    callback_urls: z.array(z.string()),
    setup_url: z.string(),
    public: z.boolean(),
    default_permissions: z.record(z.string(), z.string()),
    default_events: z.array(z.string()),
  })
  .openapi('GitHubAppManifest');

const ManifestStartSchema = z
  .object({
    manifest: ManifestSchema,
    state: z.string().openapi({ description: 'Sealed; GitHub hands it back to the callback' }),
    post_url: z.string().openapi({
      description:
        'Where the browser POSTs a form with a `manifest` field (the manifest as JSON): GitHub’s "new app" page, with the state',
    }),
    expires_at: z.iso.datetime(),
  })
  .openapi('GitHubAppManifestStart');

const GitHubAppSchema = z
  .object({
    connected: z.boolean(),
    app_id: z.number().int().nullable(),
    slug: z.string().nullable(),
    html_url: z.string().nullable(),
    install_url: z.string().nullable().openapi({
      description: 'Where an admin installs the app on repositories',
    }),
    created_at: z.iso.datetime().nullable(),
  })
  .openapi('GitHubApp');

/** `/api/workspaces/{id}/github-app`: the workspace's GitHub App, created from a manifest. */
export const githubAppRoutes = newRouter();

githubAppRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/{id}/github-app/manifest',
    tags: ['github-app'],
    summary: 'Start creating the workspace’s GitHub App from a manifest (admin)',
    description:
      'Answers the manifest and a sealed state, valid one hour. The browser POSTs the manifest ' +
      'to `post_url`; GitHub creates the app and redirects to `/api/github-app/callback`, which ' +
      'stores its credentials sealed. See docs/github-app.md.',
    request: { params: WorkspaceParams },
    responses: {
      200: { description: 'The manifest and where to send it', ...json(ManifestStartSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const access = await authorizeWorkspace(c, id, 'admin');
    const { db, config } = c.get('services');
    const name = await workspaceName(db(), id);
    if (name === null) throw new ApiError('not_found', 'Workspace not found');
    const expiresAt = Date.now() + GITHUB_APP_STATE_TTL_MS;
    const state = await sealGitHubAppState(config.ENCRYPTION_KEY, {
      workspaceId: id,
      userId: access.userId,
      expiresAt,
    });
    const github = (config.GITHUB_OAUTH_BASE_URL ?? 'https://github.com').replace(/\/$/, '');
    const postUrl = `${github}/settings/apps/new?state=${encodeURIComponent(state)}`;
    c.header('Cache-Control', 'no-store');
    return c.json(
      {
        manifest: githubAppManifest(config.PUBLIC_URL, name),
        state,
        post_url: postUrl,
        expires_at: new Date(expiresAt).toISOString(),
      },
      200,
    );
  },
);

githubAppRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/{id}/github-app',
    tags: ['github-app'],
    summary: 'The workspace’s GitHub App, if any: its id and slug, never its credentials',
    request: { params: WorkspaceParams },
    responses: {
      200: { description: 'The app, or `connected: false`', ...json(GitHubAppSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    await authorizeWorkspace(c, id, 'viewer');
    const app = await githubAppOf(c.get('services').db(), id);
    if (!app) {
      return c.json(
        {
          connected: false,
          app_id: null,
          slug: null,
          html_url: null,
          install_url: null,
          created_at: null,
        },
        200,
      );
    }
    return c.json(
      {
        connected: true,
        app_id: app.appId,
        slug: app.slug,
        html_url: app.htmlUrl,
        install_url: `${app.htmlUrl.replace(/\/$/, '')}/installations/new`,
        created_at: app.createdAt.toISOString(),
      },
      200,
    );
  },
);

const ReachableRepositorySchema = z
  .object({
    full_name: z.string(),
    clone_url: z.string(),
    private: z.boolean(),
    installation_id: z.number().int(),
  })
  .openapi('GitHubAppRepository');

const ImportSchema = z
  .object({
    repository: z.string().min(3).max(200).openapi({ example: 'octo-org/shop' }),
    name: z.string().min(1).max(100).optional(),
    slug: SlugSchema.optional(),
    production_branch: BranchSchema.default('main'),
    root_dir: RootDirSchema.default(''),
  })
  .openapi('GitHubAppImport');

githubAppRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/{id}/github-app/repositories',
    tags: ['github-app'],
    summary: 'Repositories the workspace’s GitHub App is installed on',
    description:
      'Kept from the app’s `installation` and `installation_repositories` webhook events; empty ' +
      'until the app is installed somewhere.',
    request: { params: WorkspaceParams },
    responses: {
      200: {
        description: 'By name',
        ...json(z.object({ repositories: z.array(ReachableRepositorySchema) })),
      },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    await authorizeWorkspace(c, id, 'viewer');
    const rows = await reachableRepositories(c.get('services').db(), id);
    return c.json(
      {
        repositories: rows.map((row) => ({
          full_name: row.fullName,
          clone_url: row.cloneUrl,
          private: row.isPrivate,
          installation_id: row.installationId,
        })),
      },
      200,
    );
  },
);

githubAppRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/{id}/github-app/import',
    tags: ['github-app'],
    summary: 'Create a project from a repository the GitHub App reaches (developer)',
    description:
      'The project builds the repository’s clone URL (`git_provider` github); its pushes arrive ' +
      'through the app’s webhook, so no webhook secret is shown. A repository the app does not ' +
      'reach is 404; a slug taken in the workspace is 409.',
    request: { params: WorkspaceParams, ...jsonBody(ImportSchema) },
    responses: {
      201: { description: 'Created', ...json(ProjectSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const input = c.req.valid('json');
    const access = await authorizeWorkspace(c, id, 'developer');
    const { db, config } = c.get('services');
    const repo = await reachableRepository(db(), id, input.repository);
    if (!repo) {
      throw new ApiError('not_found', `The GitHub App does not reach ${input.repository}`);
    }
    const repoName = repo.fullName.split('/').pop() ?? repo.fullName;
    const slug = input.slug ?? (projectSlug(repoName) || 'project');
    // Deliveries come through the app's webhook; the per-project secret stays unused but set,
    // as every project has one.
    const sealed = await encryptSecret(config.ENCRYPTION_KEY, randomSecret('whsec_'));
    const created = await createProject(
      db(),
      {
        workspaceId: id,
        slug,
        name: input.name ?? repoName,
        gitProvider: 'github',
        repoUrl: repo.cloneUrl,
        productionBranch: input.production_branch,
        rootDir: input.root_dir,
        webhookSecretEncrypted: sealed,
      },
      auditFor(c, access),
    );
    if (!created) throw new ApiError('conflict', `The slug "${slug}" is taken here`);
    // Commit statuses go out as the app: its JWT buys an installation token per report.
    const app = await githubAppOf(db(), id);
    if (app) {
      const credentials: GitCredentials = {
        kind: 'github_app',
        app_id: String(app.appId),
        private_key_pem: await decryptSecret(config.ENCRYPTION_KEY, app.privateKeyEncrypted),
        installation_id: repo.installationId,
        api_base: (config.GITHUB_API_BASE_URL ?? 'https://api.github.com').replace(/\/$/, ''),
      };
      await setGitCredentials(
        db(),
        created.id,
        await encryptSecret(config.ENCRYPTION_KEY, JSON.stringify(credentials)),
        auditFor(c, access),
        { kind: 'github_app', via: 'github_app_import' },
      );
    }
    await refreshWatches(c.env, id, c.get('logger'));
    return c.json(toProject(created, null), 201);
  },
);
