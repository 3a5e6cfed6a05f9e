import { createRoute, z } from '@hono/zod-openapi';
import { eq } from 'drizzle-orm';
import {
  BuildOverridesSchema,
  MAX_BUILD_TIMEOUT_MS,
  MAX_PROJECT_CONCURRENT_BUILDS,
  mergeProjectSettings,
  ProjectSettingsPatchSchema,
  ProjectSettingsSchema,
  resolveProjectSettings,
} from '../../core/project-settings';
import { projects } from '../../db/schema';
import { ApiError } from '../../platform/errors';
import { recordAudit } from '../audit';
import { authorizeProject } from '../auth/authorize';
import { openApiErrorResponses } from '../errors';
import { json, jsonBody } from '../openapi';
import { newRouter } from '../router';

const BuildSettingsSchema = z
  .object({
    overrides: BuildOverridesSchema.openapi({
      description: 'Replaces detection decisions; same fields as sparki.json, which they win over',
    }),
    build_timeout_ms: z.number().int(),
    step_timeout_ms: z.number().int().openapi({ description: 'Never above build_timeout_ms' }),
    cancel_superseded: z.boolean(),
    max_concurrent_builds: z.number().int().nullable().openapi({
      description: 'Null: only the workspace plan limit applies',
    }),
  })
  .openapi('BuildSettings');

const SettingsResponseSchema = z
  .object({
    settings: BuildSettingsSchema.openapi({ description: 'In effect, defaults filled in' }),
    stored: ProjectSettingsSchema.openapi({ description: 'Only what was set on the project' }),
  })
  .openapi('ProjectBuildSettings');

const PatchSchema = ProjectSettingsPatchSchema.openapi('UpdateBuildSettings', {
  description:
    `A field given replaces the stored one (\`overrides\` as a whole); null restores the ` +
    `default. Timeouts in milliseconds, up to ${MAX_BUILD_TIMEOUT_MS}; max_concurrent_builds up to ` +
    `${MAX_PROJECT_CONCURRENT_BUILDS}.`,
});

const Params = z.object({ id: z.uuid() });

function respond(stored: unknown) {
  const parsed = ProjectSettingsSchema.parse(stored);
  return { settings: resolveProjectSettings(parsed), stored: parsed };
}

export const projectSettingsRoutes = newRouter();

projectSettingsRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/api/projects/{id}/settings',
    tags: ['projects'],
    summary: 'Build settings of a project: detection overrides, time limits, queueing',
    request: { params: Params },
    responses: {
      200: { description: 'Settings', ...json(SettingsResponseSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    await authorizeProject(c, id, 'viewer');
    const [row] = await c
      .get('services')
      .db()
      .select({ settings: projects.settings })
      .from(projects)
      .where(eq(projects.id, id));
    if (!row) throw new ApiError('not_found', 'Project not found');
    return c.json(respond(row.settings), 200);
  },
);

projectSettingsRoutes.openapi(
  createRoute({
    method: 'patch',
    path: '/api/projects/{id}/settings',
    tags: ['projects'],
    summary: 'Change build settings (developer)',
    request: { params: Params, ...jsonBody(PatchSchema) },
    responses: {
      200: { description: 'Updated', ...json(SettingsResponseSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const patch = c.req.valid('json');
    const access = await authorizeProject(c, id, 'developer');
    const stored = await c
      .get('services')
      .db()
      .transaction(async (tx) => {
        const [row] = await tx
          .select({ settings: projects.settings })
          .from(projects)
          .where(eq(projects.id, id))
          .for('update');
        if (!row) throw new ApiError('not_found', 'Project not found');
        const merged = mergeProjectSettings(ProjectSettingsSchema.parse(row.settings), patch);
        await tx.update(projects).set({ settings: merged }).where(eq(projects.id, id));
        await recordAudit(tx, c, {
          action: 'project.settings_updated',
          workspaceId: access.workspaceId,
          actorRole: access.role,
          targetType: 'project',
          targetId: id,
          metadata: { fields: Object.keys(patch) },
        });
        return merged;
      });
    return c.json(respond(stored), 200);
  },
);
