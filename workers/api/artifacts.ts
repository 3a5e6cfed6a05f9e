import { createRoute, z } from '@hono/zod-openapi';
import { ARTIFACT_URL_TTL_SECONDS, verifyArtifactUrl } from '../../core/artifact-url';
import { buildOutput } from '../../domain/builds/queries';
import { openOutputArchive } from '../../domain/hosting/output-archive';
import { ApiError } from '../../platform/errors';
import { errorResponse, openApiErrorResponses } from '../errors';
import { newRouter } from '../router';

/** `/api/artifacts`, public: the signed link is the credential. */
export const artifactsApp = newRouter();

artifactsApp.openapi(
  createRoute({
    method: 'get',
    path: '/{buildId}/output.tar.gz',
    tags: ['deployments'],
    summary: 'Download a build’s output with a signed link (no other authentication)',
    description:
      'The link the deploy engine hands to receivers that fetch the build themselves (the ' +
      `signed webhook's \`artifact_url\`). It names one build and expires ${ARTIFACT_URL_TTL_SECONDS / 60} ` +
      'minutes after it was made; the signature is an HMAC over the path and `expires` with a ' +
      'key only the platform holds. Each deployment gets a fresh link.',
    request: {
      params: z.object({ buildId: z.uuid() }),
      query: z.object({
        expires: z
          .string()
          .optional()
          .openapi({ description: 'Unix seconds', example: '1767225600' }),
        signature: z.string().optional().openapi({ description: 'base64url HMAC-SHA256' }),
      }),
    },
    responses: {
      200: {
        description: 'The build output, a gzipped tar',
        content: { 'application/gzip': { schema: z.string().openapi({ format: 'binary' }) } },
      },
      403: errorResponse('No signature, or one that does not match this link'),
      404: errorResponse('The build has no output to download'),
      410: errorResponse('The link has expired: the next deployment gets a new one'),
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { buildId } = c.req.valid('param');
    const { expires, signature } = c.req.valid('query');
    const { config, db } = c.get('services');
    const verdict = await verifyArtifactUrl({
      encryptionKey: config.ENCRYPTION_KEY,
      buildId,
      expires,
      signature,
    });
    if (verdict === 'invalid') {
      throw new ApiError('forbidden', 'This download link is not signed for this build');
    }
    if (verdict === 'expired') throw new ApiError('gone', 'This download link has expired');
    const build = await buildOutput(db(), buildId);
    const archive = build ? await openOutputArchive(c.env, build) : null;
    if (!archive) throw new ApiError('not_found', 'The build has no output to download');
    return c.body(archive.body, 200, {
      'Content-Type': 'application/gzip',
      ...(archive.size === undefined ? {} : { 'Content-Length': String(archive.size) }),
      'Content-Disposition': `attachment; filename="${buildId}.tar.gz"`,
      ETag: archive.etag,
      'Cache-Control': 'private, no-store',
      'X-Content-Type-Options': 'nosniff',
    });
  },
);
