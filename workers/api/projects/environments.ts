import { createRoute, z } from '@hono/zod-openapi';
import { EnvVarNameSchema, EnvVarValueSchema, MAX_ENV_VARS } from '../../../core/project-settings';
import { decryptSecret, encryptSecret } from '../../../core/secret-box';
import type { EnvVarValue } from '../../../db/schema';
import {
  deleteVariable,
  environmentsOf,
  setVariable,
} from '../../../domain/environments/environments';
import { ApiError } from '../../../platform/errors';
import { auditFor } from '../../audit';
import { authorizeProject } from '../../auth/authorize';
import { errorResponse, openApiErrorResponses } from '../../errors';
import { json, jsonBody } from '../../openapi';
import { newRouter } from '../../router';
import { ProjectParams } from './schemas';

const VariableSchema = z
  .object({
    name: z.string(),
    secret: z.boolean(),
    value: z.string().optional().openapi({
      description: 'Plain variables only: a secret’s value is never returned after it is set',
    }),
    updated_at: z.iso.datetime().nullable(),
  })
  .openapi('EnvironmentVariable');

const EnvironmentSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    kind: z.enum(['production', 'preview']),
    deploy_target: z.string(),
    variables: z.array(VariableSchema),
    updated_at: z.iso.datetime(),
  })
  .openapi('Environment');

const SetVariableSchema = z
  .strictObject({
    value: EnvVarValueSchema,
    secret: z.boolean().default(false).openapi({
      description: 'Write-only: the value is encrypted, masked in build logs and never shown again',
    }),
  })
  .openapi('SetEnvironmentVariable');

const EnvironmentParams = ProjectParams.extend({
  environment: z.string().min(1).max(60).openapi({ example: 'preview' }),
});
const VariableParams = EnvironmentParams.extend({ name: EnvVarNameSchema });

type Variable = z.infer<typeof VariableSchema>;

async function toVariable(key: string, name: string, stored: EnvVarValue): Promise<Variable> {
  const base = { name, secret: stored.secret, updated_at: stored.updatedAt ?? null };
  return stored.secret ? base : { ...base, value: await decryptSecret(key, stored.encrypted) };
}

/** `/api/projects/{id}/environments`: a project's environments and their variables. */
export const projectEnvironmentRoutes = newRouter();

projectEnvironmentRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/{id}/environments',
    tags: ['environments'],
    summary: 'Environments of a project with their variables (secrets without values)',
    request: { params: ProjectParams },
    responses: {
      200: {
        description: 'Environments',
        ...json(z.object({ environments: z.array(EnvironmentSchema) })),
      },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    await authorizeProject(c, id, 'viewer');
    const { db, config } = c.get('services');
    const rows = await environmentsOf(db(), id);
    const list = await Promise.all(
      rows.map(async (row) => ({
        id: row.id,
        name: row.name,
        kind: row.kind,
        deploy_target: row.deployTarget,
        variables: await Promise.all(
          Object.entries(row.envVars)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([name, stored]) => toVariable(config.ENCRYPTION_KEY, name, stored)),
        ),
        updated_at: row.updatedAt.toISOString(),
      })),
    );
    return c.json({ environments: list }, 200);
  },
);

projectEnvironmentRoutes.openapi(
  createRoute({
    method: 'put',
    path: '/{id}/environments/{environment}/variables/{name}',
    tags: ['environments'],
    summary: 'Set a variable or a secret of an environment (developer)',
    description:
      'Names follow POSIX (letters, digits, underscore; no leading digit). Values are encrypted ' +
      `at rest (AES-GCM); an environment holds at most ${MAX_ENV_VARS} variables.`,
    request: { params: VariableParams, ...jsonBody(SetVariableSchema) },
    responses: {
      200: { description: 'Set', ...json(VariableSchema) },
      409: errorResponse(`The environment already holds ${MAX_ENV_VARS} variables`),
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id, environment, name } = c.req.valid('param');
    const input = c.req.valid('json');
    const access = await authorizeProject(c, id, 'developer');
    const { db, config } = c.get('services');
    const stored: EnvVarValue = {
      encrypted: await encryptSecret(config.ENCRYPTION_KEY, input.value),
      secret: input.secret,
      updatedAt: new Date().toISOString(),
    };
    const target = { projectId: id, environment, name };
    const outcome = await setVariable(db(), target, stored, auditFor(c, access));
    if (outcome === 'missing') throw new ApiError('not_found', 'Environment not found');
    if (outcome === 'full') {
      throw new ApiError('conflict', `An environment holds at most ${MAX_ENV_VARS} variables`);
    }
    return c.json(await toVariable(config.ENCRYPTION_KEY, name, stored), 200);
  },
);

projectEnvironmentRoutes.openapi(
  createRoute({
    method: 'delete',
    path: '/{id}/environments/{environment}/variables/{name}',
    tags: ['environments'],
    summary: 'Delete a variable or a secret of an environment (developer)',
    request: { params: VariableParams },
    responses: {
      200: { description: 'Deleted', ...json(z.object({ status: z.literal('deleted') })) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id, environment, name } = c.req.valid('param');
    const access = await authorizeProject(c, id, 'developer');
    const target = { projectId: id, environment, name };
    const deleted = await deleteVariable(c.get('services').db(), target, auditFor(c, access));
    if (!deleted) throw new ApiError('not_found', 'Variable not found');
    return c.json({ status: 'deleted' as const }, 200);
  },
);
