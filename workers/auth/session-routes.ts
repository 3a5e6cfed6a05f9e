import { createRoute, z } from '@hono/zod-openapi';
import { deleteCookie } from 'hono/cookie';
import { endSession, liveSessionsOf, revokeOwnSession } from '../../domain/accounts/sessions';
import { ApiError } from '../../platform/errors';
import { auditFor } from '../audit';
import { openApiErrorResponses } from '../errors';
import { json } from '../openapi';
import { authenticated, newRouter } from '../router';
import { ACCESS_COOKIE, REFRESH_COOKIE, requireSession } from './principal';
import { SessionSchema } from './schemas';

const sessionRoutes = newRouter();

sessionRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/logout',
    tags: ['auth'],
    summary: 'End the current session',
    responses: { 204: { description: 'Signed out' }, ...openApiErrorResponses },
  }),
  async (c) => {
    const principal = requireSession(c);
    const db = c.get('services').db();
    await endSession(db, principal.sessionId, 'auth.logout', auditFor(c));
    deleteCookie(c, ACCESS_COOKIE, { path: '/', secure: true });
    deleteCookie(c, REFRESH_COOKIE, { path: '/', secure: true });
    return c.body(null, 204);
  },
);

sessionRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/sessions',
    tags: ['auth'],
    summary: 'Your active sessions',
    responses: {
      200: { description: 'Sessions', ...json(z.object({ sessions: z.array(SessionSchema) })) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const principal = requireSession(c);
    const rows = await liveSessionsOf(c.get('services').db(), principal.userId);
    return c.json(
      {
        sessions: rows.map((row) => ({
          id: row.id,
          user_agent: row.userAgent,
          ip: row.ip,
          created_at: row.createdAt.toISOString(),
          last_seen_at: row.lastSeenAt.toISOString(),
          current: row.id === principal.sessionId,
        })),
      },
      200,
    );
  },
);

sessionRoutes.openapi(
  createRoute({
    method: 'delete',
    path: '/sessions/{id}',
    tags: ['auth'],
    summary: 'Revoke one of your sessions',
    request: { params: z.object({ id: z.uuid() }) },
    responses: { 204: { description: 'Revoked' }, ...openApiErrorResponses },
  }),
  async (c) => {
    const principal = requireSession(c);
    const { id } = c.req.valid('param');
    const db = c.get('services').db();
    if (!(await revokeOwnSession(db, principal.userId, id, auditFor(c)))) {
      throw new ApiError('not_found', 'Session not found');
    }
    return c.body(null, 204);
  },
);

/** `/api/auth/logout` and `/api/auth/sessions`: the signed-in user's own sessions. */
export const sessionsApp = authenticated(sessionRoutes);
