import { createRoute, z } from '@hono/zod-openapi';
import {
  BuildOverridesSchema,
  MAX_BUILD_TIMEOUT_MS,
  MAX_PROJECT_CONCURRENT_BUILDS,
  type ProjectSettings,
  ProjectSettingsPatchSchema,
  ProjectSettingsSchema,
  resolveProjectSettings,
} from '../../../core/project-settings';
import { refreshWatches } from '../../../domain/polling/watch';
import { patchBuildSettings, storedBuildSettings } from '../../../domain/projects/projects';
import { auditFor } from '../../audit';
import { authorizeProject } from '../../auth/authorize';
import { openApiErrorResponses } from '../../errors';
import { json, jsonBody } from '../../openapi';
import { newRouter } from '../../router';
import { ProjectParams } from './schemas';

const BuildSettingsSchema = z
  .object({
    overrides: BuildOverridesSchema.openapi({
      description:
        'Replaces detection decisions; same fields as sparki.json, which wins over them (the repository has the last word, as with vercel.json or netlify.toml)',
    }),
    build_timeout_ms: z.number().int(),
    step_timeout_ms: z.number().int().openapi({ description: 'Never above build_timeout_ms' }),
    cancel_superseded: z.boolean(),
    max_concurrent_builds: z.number().int().nullable().openapi({
      description: 'Null: only the workspace plan limit applies',
    }),
    poll_interval_seconds: z
      .number()
      .int()
      .nullable()
      .openapi({
        description:
          'Seconds between a runner’s polls of the repository’s branch heads (0: never). Null: ' +
          'automatic: every 30 s for a local path, file:// URL or private-network host when ' +
          '`git_provider` is `none`, else never (a provider sends webhooks). See docs/cli.md',
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
    `${MAX_PROJECT_CONCURRENT_BUILDS}; poll_interval_seconds 0 (off) or 5 to 86400.`,
});

function respond(stored: ProjectSettings) {
  return { settings: resolveProjectSettings(stored), stored };
}

/** `/api/projects/{id}/settings`: how a project builds. */
export const projectSettingsRoutes = newRouter();

projectSettingsRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/{id}/settings',
    tags: ['projects'],
    summary: 'Build settings of a project: detection overrides, time limits, queueing',
    request: { params: ProjectParams },
    responses: {
      200: { description: 'Settings', ...json(SettingsResponseSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    await authorizeProject(c, id, 'viewer');
    return c.json(respond(await storedBuildSettings(c.get('services').db(), id)), 200);
  },
);

projectSettingsRoutes.openapi(
  createRoute({
    method: 'patch',
    path: '/{id}/settings',
    tags: ['projects'],
    summary: 'Change build settings (developer)',
    request: { params: ProjectParams, ...jsonBody(PatchSchema) },
    responses: {
      200: { description: 'Updated', ...json(SettingsResponseSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const patch = c.req.valid('json');
    const access = await authorizeProject(c, id, 'developer');
    const db = c.get('services').db();
    const stored = await patchBuildSettings(db, id, patch, auditFor(c, access));
    if (patch.poll_interval_seconds !== undefined) {
      await refreshWatches(c.env, access.workspaceId, c.get('logger'));
    }
    return c.json(respond(stored), 200);
  },
);
