import { createRoute, z } from '@hono/zod-openapi';
import { decryptSecret, encryptSecret } from '../../../core/secret-box';
import {
  findProject,
  sealedGitCredentials,
  setGitCredentials,
} from '../../../domain/projects/projects';
import { GitCredentialsSchema } from '../../../domain/reporting/report';
import { ApiError } from '../../../platform/errors';
import { auditFor } from '../../audit';
import { authorizeProject } from '../../auth/authorize';
import { openApiErrorResponses } from '../../errors';
import { json, jsonBody } from '../../openapi';
import { newRouter } from '../../router';
import { ProjectParams } from './schemas';

const GitReportingSchema = z
  .object({
    configured: z.boolean(),
    kind: z.enum(['github_app', 'token']).optional(),
    app_id: z.string().optional(),
    installation_id: z.number().optional(),
    api_base: z.string().optional(),
  })
  .openapi('GitReporting', {
    description: 'The non-secret part of the reporting credentials; keys and tokens never return',
  });

async function toReporting(key: string, sealed: string | null) {
  if (!sealed) return { configured: false };
  const stored = GitCredentialsSchema.parse(JSON.parse(await decryptSecret(key, sealed)));
  return {
    configured: true,
    kind: stored.kind,
    ...(stored.kind === 'github_app'
      ? { app_id: stored.app_id, installation_id: stored.installation_id }
      : {}),
    ...(stored.api_base ? { api_base: stored.api_base } : {}),
  };
}

/** `/api/projects/{id}/git-reporting`: commit statuses and preview comments. */
export const gitReportingRoutes = newRouter();

gitReportingRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/{id}/git-reporting',
    tags: ['projects'],
    summary: 'Whether commit statuses are reported to the repository, and how',
    request: { params: ProjectParams },
    responses: {
      200: { description: 'Reporting settings', ...json(GitReportingSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    await authorizeProject(c, id, 'viewer');
    const { db, config } = c.get('services');
    const sealed = await sealedGitCredentials(db(), id);
    return c.json(await toReporting(config.ENCRYPTION_KEY, sealed), 200);
  },
);

gitReportingRoutes.openapi(
  createRoute({
    method: 'put',
    path: '/{id}/git-reporting',
    tags: ['projects'],
    summary: 'Set the credentials for commit statuses and preview comments (admin)',
    description:
      'GitHub projects use a GitHub App (`github_app`: app id, PKCS#8 private key, installation ' +
      'id); GitLab and Gitea use a `token`. `api_base` defaults to the repository host’s API. ' +
      'Stored encrypted (AES-GCM); the key and token are never returned.',
    request: { params: ProjectParams, ...jsonBody(GitCredentialsSchema) },
    responses: {
      200: { description: 'Set', ...json(GitReportingSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const input = c.req.valid('json');
    const access = await authorizeProject(c, id, 'admin');
    const { db, config } = c.get('services');
    const project = await findProject(db(), id);
    if (!project?.repoUrl || project.gitProvider === 'none') {
      throw new ApiError('validation_failed', 'The project has no repository to report to');
    }
    const expected = project.gitProvider === 'github' ? 'github_app' : 'token';
    if (input.kind !== expected) {
      throw new ApiError(
        'validation_failed',
        `A ${project.gitProvider} project reports with ${expected}`,
      );
    }
    const sealed = await encryptSecret(config.ENCRYPTION_KEY, JSON.stringify(input));
    await setGitCredentials(db(), id, sealed, auditFor(c, access), { kind: input.kind });
    return c.json(await toReporting(config.ENCRYPTION_KEY, sealed), 200);
  },
);

gitReportingRoutes.openapi(
  createRoute({
    method: 'delete',
    path: '/{id}/git-reporting',
    tags: ['projects'],
    summary: 'Stop reporting to the repository and forget its credentials (admin)',
    request: { params: ProjectParams },
    responses: {
      204: { description: 'Removed' },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const access = await authorizeProject(c, id, 'admin');
    await setGitCredentials(c.get('services').db(), id, null, auditFor(c, access));
    return c.body(null, 204);
  },
);
