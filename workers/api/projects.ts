import { createRoute, z } from '@hono/zod-openapi';
import { and, eq } from 'drizzle-orm';
import { encryptSecret } from '../../core/secret-box';
import { environments, projects } from '../../db/schema';
import { randomSecret } from '../../platform/crypto';
import { ApiError } from '../../platform/errors';
import { recordAudit } from '../audit';
import { authorizeProject, authorizeWorkspace } from '../auth/authorize';
import { openApiErrorResponses } from '../errors';
import { skipIdempotencyStorage } from '../middleware/idempotency';
import { json, jsonBody } from '../openapi';
import { newRouter } from '../router';

const SlugSchema = z
  .string()
  .min(1)
  .max(60)
  .regex(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/, 'lower-case letters, digits and inner hyphens');

export const BranchSchema = z
  .string()
  .min(1)
  .max(255)
  .regex(/^(?!\/|.*\/\/|.*\.\.|.*@\{)[^\s~^:?*[\\]+(?<![/.])$/, 'a valid git branch name');

// Relative and inside the repository: a root directory is joined to the checkout path.
const RootDirSchema = z
  .string()
  .max(255)
  .regex(/^(?!\/)(?!.*(?:^|\/)\.\.(?:\/|$))[^\\]*$/, 'a relative path inside the repository');

const ProjectSettingsSchema = z
  .object({
    name: z.string().min(1).max(100),
    git_provider: z.enum(['github', 'gitlab', 'gitea', 'none']),
    repo_url: z.url().max(500).nullable(),
    production_branch: BranchSchema,
    root_dir: RootDirSchema,
  })
  .partial();

const CreateProjectSchema = ProjectSettingsSchema.extend({
  name: z.string().min(1).max(100),
  slug: SlugSchema,
}).openapi('CreateProject');

const UpdateProjectSchema = ProjectSettingsSchema.openapi('UpdateProject');

const ProjectSchema = z
  .object({
    id: z.uuid(),
    workspace_id: z.uuid(),
    name: z.string(),
    slug: z.string(),
    git_provider: z.enum(['github', 'gitlab', 'gitea', 'none']),
    repo_url: z.string().nullable(),
    production_branch: z.string(),
    root_dir: z.string(),
    framework: z.string().nullable(),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .openapi('Project');

const CreatedProjectSchema = ProjectSchema.extend({
  webhook_secret: z.string().openapi({
    description: 'Shown once: paste it into the git provider’s webhook settings.',
  }),
}).openapi('CreatedProject');

const ProjectParams = z.object({ id: z.uuid() });

function toProject(row: typeof projects.$inferSelect) {
  return {
    id: row.id,
    workspace_id: row.workspaceId,
    name: row.name,
    slug: row.slug,
    git_provider: row.gitProvider,
    repo_url: row.repoUrl,
    production_branch: row.productionBranch,
    root_dir: row.rootDir,
    framework: row.framework,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

function columns(input: z.infer<typeof ProjectSettingsSchema>) {
  return {
    ...(input.name !== undefined && { name: input.name }),
    ...(input.git_provider !== undefined && { gitProvider: input.git_provider }),
    ...(input.repo_url !== undefined && { repoUrl: input.repo_url }),
    ...(input.production_branch !== undefined && { productionBranch: input.production_branch }),
    ...(input.root_dir !== undefined && { rootDir: input.root_dir }),
  };
}

export const projectRoutes = newRouter();

projectRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/api/workspaces/{id}/projects',
    tags: ['projects'],
    summary: 'Create a project (developer); it starts with production and preview environments',
    request: { params: z.object({ id: z.uuid() }), ...jsonBody(CreateProjectSchema) },
    responses: {
      201: { description: 'Created', ...json(CreatedProjectSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const input = c.req.valid('json');
    const access = await authorizeWorkspace(c, id, 'developer');
    const { db, config } = c.get('services');
    const webhookSecret = randomSecret('whsec_');
    // The response carries the secret once; it must not sit in the idempotency store.
    skipIdempotencyStorage(c);
    const created = await db().transaction(async (tx) => {
      const [project] = await tx
        .insert(projects)
        .values({
          workspaceId: id,
          slug: input.slug,
          ...columns(input),
          name: input.name,
          webhookSecretEncrypted: await encryptSecret(config.ENCRYPTION_KEY, webhookSecret),
        })
        .onConflictDoNothing()
        .returning();
      if (!project) return undefined;
      await tx.insert(environments).values([
        { projectId: project.id, name: 'production', kind: 'production' },
        { projectId: project.id, name: 'preview', kind: 'preview' },
      ]);
      await recordAudit(tx, c, {
        action: 'project.created',
        workspaceId: id,
        actorRole: access.role,
        targetType: 'project',
        targetId: project.id,
      });
      return project;
    });
    if (!created) throw new ApiError('conflict', `The slug "${input.slug}" is taken here`);
    return c.json({ ...toProject(created), webhook_secret: webhookSecret }, 201);
  },
);

projectRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/api/workspaces/{id}/projects',
    tags: ['projects'],
    summary: 'Projects of a workspace',
    request: { params: z.object({ id: z.uuid() }) },
    responses: {
      200: { description: 'Projects', ...json(z.object({ projects: z.array(ProjectSchema) })) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    await authorizeWorkspace(c, id, 'viewer');
    const rows = await c
      .get('services')
      .db()
      .select()
      .from(projects)
      .where(eq(projects.workspaceId, id))
      .orderBy(projects.name);
    return c.json({ projects: rows.map(toProject) }, 200);
  },
);

projectRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/api/projects/{id}',
    tags: ['projects'],
    summary: 'One project (404 unless you are a member of its workspace)',
    request: { params: ProjectParams },
    responses: {
      200: { description: 'The project', ...json(ProjectSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    await authorizeProject(c, id, 'viewer');
    const [row] = await c.get('services').db().select().from(projects).where(eq(projects.id, id));
    if (!row) throw new ApiError('not_found', 'Project not found');
    return c.json(toProject(row), 200);
  },
);

projectRoutes.openapi(
  createRoute({
    method: 'patch',
    path: '/api/projects/{id}',
    tags: ['projects'],
    summary: 'Change project settings (developer)',
    request: { params: ProjectParams, ...jsonBody(UpdateProjectSchema) },
    responses: {
      200: { description: 'Updated', ...json(ProjectSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const input = c.req.valid('json');
    const access = await authorizeProject(c, id, 'developer');
    const changes = columns(input);
    if (Object.keys(changes).length === 0) {
      throw new ApiError('validation_failed', 'Nothing to change', { body: ['no fields given'] });
    }
    const updated = await c
      .get('services')
      .db()
      .transaction(async (tx) => {
        const [row] = await tx.update(projects).set(changes).where(eq(projects.id, id)).returning();
        await recordAudit(tx, c, {
          action: 'project.updated',
          workspaceId: access.workspaceId,
          actorRole: access.role,
          targetType: 'project',
          targetId: id,
          metadata: { fields: Object.keys(input) },
        });
        return row!;
      });
    return c.json(toProject(updated), 200);
  },
);

projectRoutes.openapi(
  createRoute({
    method: 'delete',
    path: '/api/projects/{id}',
    tags: ['projects'],
    summary: 'Delete a project and everything in it (admin)',
    request: { params: ProjectParams },
    responses: {
      200: { description: 'Deleted', ...json(z.object({ status: z.literal('deleted') })) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const access = await authorizeProject(c, id, 'admin');
    await c
      .get('services')
      .db()
      .transaction(async (tx) => {
        await tx
          .delete(projects)
          .where(and(eq(projects.id, id), eq(projects.workspaceId, access.workspaceId)));
        await recordAudit(tx, c, {
          action: 'project.deleted',
          workspaceId: access.workspaceId,
          actorRole: access.role,
          targetType: 'project',
          targetId: id,
        });
      });
    return c.json({ status: 'deleted' as const }, 200);
  },
);
